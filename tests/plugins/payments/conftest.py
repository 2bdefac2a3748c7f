from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.modules.payments.conftest import booking_events, bookings, pay  # noqa: F401  (shared fixtures)
from tests.plugins.payments.fake_stripe import FakeStripe, start

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    fake = start()
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    yield fake
    assert fake.server is not None
    fake.server.shutdown()
    fake.server.server_close()
