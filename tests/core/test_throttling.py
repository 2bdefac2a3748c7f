"""The API-wide throttle answers 429 with Retry-After, per client, and resets with the window."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(API_THROTTLE_ANON="3/m")
@pytest.mark.usefixtures("rate_window")
def test_anonymous_clients_are_limited_per_ip(anon):
    statuses = [anon.get("/utils/ping").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    res = anon.get("/utils/ping")
    assert res["Content-Type"] == "application/problem+json"
    assert 0 < int(res["Retry-After"]) <= 61


@override_settings(API_THROTTLE_USER="2/m")
@pytest.mark.usefixtures("rate_window")
def test_users_are_limited_separately(make_user, client_for):
    alice, bob = client_for(make_user("student")), client_for(make_user("student"))
    assert [alice.get("/me").status_code for _ in range(3)] == [200, 200, 429]
    assert bob.get("/me").status_code == 200  # another user's budget is untouched
