"""The workplace's real logs and payloads, `../shared/fixtures` beside the checkout.

Found by walking up from here, not at a fixed depth: mutmut runs the suite from a copy one
directory deeper (`mutants/`), where `parents[3] / ".."` names nothing.
"""

from __future__ import annotations

from pathlib import Path


def _shared_fixtures() -> Path:
    for directory in Path(__file__).resolve().parents:
        candidate = directory / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"no shared/fixtures in any directory above {Path(__file__).parent}")


SHARED_FIXTURES = _shared_fixtures()
