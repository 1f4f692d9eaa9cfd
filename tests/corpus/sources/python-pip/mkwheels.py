"""Write minimal pure-Python wheels into a directory laid out as a simple index.

Usage: python mkwheels.py OUT_DIR
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

PACKAGES = {
    ("acme-core", "1.0.0"): [],
    ("acme-core", "1.2.0"): [],
    ("acme-core", "2.0.0"): [],
    ("acme-core", "2.1.0"): [],
    ("acme-web", "1.4.0"): ["acme-core<2,>=1.2"],
    ("acme-web", "1.5.0"): ["acme-core<2,>=1.2"],
    ("acme-cli", "3.0.0"): ["acme-core>=2.1", "acme-web>=1.4"],
    ("acme-auth", "0.9.0"): ["acme-core>=1.0"],
}


def digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build(out: Path, name: str, version: str, requires: list[str]) -> None:
    module = name.replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{dist}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {req}\n" for req in requires),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: mkwheels\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(
        f"{path},{digest(text.encode())},{len(text.encode())}\n" for path, text in files.items()
    )
    files[f"{dist}/RECORD"] = record + f"{dist}/RECORD,,\n"
    target = out / name
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target / f"{module}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def main() -> int:
    out = Path(sys.argv[1])
    for (name, version), requires in PACKAGES.items():
        build(out, name, version, requires)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
