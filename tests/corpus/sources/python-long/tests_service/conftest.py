import logging
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def service_log():
    Path("logs").mkdir(exist_ok=True)
    handler = logging.FileHandler("logs/service.log", mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    handler.close()
