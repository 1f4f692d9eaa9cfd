"""Pre-deploy step: checks the database settings the migration needs."""

from __future__ import annotations

import os
from urllib.parse import urlparse


def settings() -> dict[str, str]:
    url = urlparse(os.environ["DATABASE_URL"])
    return {"host": url.hostname or "", "name": url.path.lstrip("/")}


def main() -> int:
    print("migrate: reading settings from environment")
    print(f"migrate: APP_ENV={os.environ.get('APP_ENV', 'staging')}")
    config = settings()
    print(f"migrate: connecting to {config['host']}/{config['name']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
