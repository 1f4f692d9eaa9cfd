"""Hypothesis profiles for the whole suite, loaded by tests/conftest.py.

`ci` (the default: `scripts/test` and `.ci/run`) draws enough examples to matter within CI's time
limit; `dev` (`HYPOTHESIS_PROFILE=dev`) draws a tenth of them, for a quick loop while editing.
A property that states its own count wraps it in `examples(n)`, so the profile still scales it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILES = {"ci": 1.0, "dev": 0.1}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in PROFILES:
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE!r}: choose one of {', '.join(PROFILES)}")

# Deadlines are off: examples that reach Postgres or a sandbox vary with the machine's load, and
# timing is measured in bench/, never asserted in tests.
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(PROFILE)


# Settings without hypothesis's explain phase: on a failure it replays each step of the shrunk
# example many times over (minutes with Postgres and the sandboxes); the shrunk example says
# what happened.
NO_EXPLAIN = tuple(phase for phase in Phase if phase is not Phase.explain)


def examples(ci_count: int) -> int:
    """`ci_count` examples under `ci`, scaled down (never below 5) under `dev`."""
    return max(5, round(ci_count * PROFILES[PROFILE]))
