"""Property-based tests (hypothesis) of everything that takes input from outside: no 500s, nothing stored
from a rejected request, and every refusal says specifically what was wrong."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Many examples against real databases: enough to find edge cases, few enough to keep `make test` fast.
settings.register_profile(
    "suite",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
)
settings.load_profile("suite")

from tests.dashboard.conftest import accounts, talked  # noqa: E402, F401 - fixtures, shared
from tests.webhooks.conftest import demo_app  # noqa: E402, F401 - the fixture, shared
