"""The security sweeps send hundreds of requests per user: lift the API's per-user throttle for them
(tests/core/test_throttling.py covers the throttle itself)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_api_throttle(settings: Any) -> None:
    settings.API_THROTTLE_USER = "1000000/m"
    settings.API_THROTTLE_ANON = "1000000/m"
