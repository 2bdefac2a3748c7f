from __future__ import annotations

import pytest

from core.console.services import erase_user
from core.registry import HOOKS, hooks
from modules.payments.models import LedgerEntry, Payment
from tests.modules.payments.conftest import wallet

pytestmark = pytest.mark.django_db


def test_dashboard_figures_and_integrity_come_from_the_ledger(student, tutor, admin_user, bookings, pay, client_for):
    pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    api = client_for(admin_user)
    figures = api.get("/admin/dashboard").json()["payments"]
    assert figures["platform_revenue_this_month"] == {"USD": 1500}
    assert figures["payments_this_month"] == 1
    findings = api.get("/admin/integrity").json()
    assert [f for f in findings if f["module"] == "payments"] == []


def test_export_lists_the_users_payments_and_balances(student, tutor, bookings, pay):
    pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    exported = hooks.call(HOOKS.USER_EXPORT, user=tutor)["payments"]
    assert [(p["role"], p["amount_minor"]) for p in exported["payments"]] == [("payee", 10000)]
    assert exported["balances"] == {"USD": {"pending": 8500, "available": 0, "held": 0}}
    assert hooks.call(HOOKS.USER_EXPORT, user=student)["payments"]["payments"][0]["role"] == "payer"


def test_erasure_keeps_the_ledger_and_payments_for_accounting(student, tutor, bookings, pay, client_for):
    pay(student, "booking", bookings.add(student, tutor, 10000, "USD"))
    entries = LedgerEntry.objects.count()
    erase_user(student)
    assert LedgerEntry.objects.count() == entries == 3
    assert Payment.objects.filter(payer=student).count() == 1
    assert wallet(client_for(tutor))["pending"] == 8500
