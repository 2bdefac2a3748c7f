"""Property: after any sequence of payments, releases, refunds and withdrawals, every ledger
transaction balances per currency and no tutor's balances are ever negative."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from core.errors import Conflict, ValidationFailed
from core.models import Role, User
from modules.payments import ledger, services
from modules.payments.models import LedgerEntry, Payment, Withdrawal

pytestmark = pytest.mark.django_db

ops = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 50_000), st.sampled_from(["USD", "USD", "EUR"])),
        st.tuples(st.just("complete"), st.integers(0, 3)),
        st.tuples(st.just("refund"), st.integers(0, 3), st.sampled_from([None, 1, 10, 33, 50, 100])),
        st.tuples(st.just("withdraw"), st.integers(0, 1), st.sampled_from([10, 50, 100, 101]), st.sampled_from(["USD", "EUR"])),
        st.tuples(st.just("approve"), st.integers(0, 3)),
        st.tuples(st.just("reject"), st.integers(0, 3)),
    ),
    min_size=1,
    max_size=25,
)


def _assert_invariants(tutors: list[Any]) -> None:
    unbalanced = LedgerEntry.objects.values("transaction_id", "currency").annotate(s=Sum("amount_minor")).exclude(s=0).count()
    assert unbalanced == 0
    for tutor in tutors:
        for currency, b in ledger.tutor_balances(tutor).items():
            assert b["available"] >= 0, (currency, b)
            assert b["pending"] >= 0, (currency, b)
            assert b["held"] >= 0, (currency, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
# the path that tempts an overdraft: paid, released, all withdrawn, then refunded
@example(steps=[("pay", 0, 10_000, "USD"), ("complete", 0), ("withdraw", 0, 100, "USD"), ("refund", 0, None)])
def test_any_sequence_keeps_the_ledger_balanced_and_balances_non_negative(steps, make_user, bookings):
    tutors = [make_user(Role.TUTOR), make_user(Role.TUTOR)]
    student = make_user(Role.STUDENT)
    admin = make_user(Role.ADMIN)
    payments: list[Payment] = []
    withdrawals: list[Withdrawal] = []
    for step in steps:
        op = step[0]
        try:
            if op == "pay":
                booking_id = bookings.add(student, tutors[step[1]], step[2], step[3])
                payment, _ = services.do_checkout(payer=student, kind="booking", object_id=booking_id)
                payments.append(payment)
            elif op == "complete" and payments:
                services.do_release(payment_id=payments[-1 - step[1] % len(payments)].id)
            elif op == "refund" and payments:
                payment = payments[-1 - step[1] % len(payments)]
                amount = None if step[2] is None else max(1, payment.amount_minor * step[2] // 100)
                services.do_refund(payment_id=payment.id, amount_minor=amount, key=f"prop:{uuid.uuid4()}")
            elif op == "withdraw":  # a share of what is available (101% must be refused)
                tutor = tutors[step[1]]
                available = ledger.tutor_balances(tutor).get(step[3], {}).get("available", 0)
                amount = max(1000, available * step[2] // 100)
                withdrawals.append(services.do_request_withdrawal(tutor=tutor, amount_minor=amount, currency=step[3]))
            elif op in ("approve", "reject") and withdrawals:
                w = withdrawals[-1 - step[1] % len(withdrawals)]
                if op == "approve":
                    services.do_approve_withdrawal(withdrawal_id=w.id, admin=admin, reference="REF")
                else:
                    services.do_reject_withdrawal(withdrawal_id=w.id, admin=admin)
        except (Conflict, ValidationFailed):
            pass  # refused operations must leave the invariants intact too
        _assert_invariants(tutors)
    # what the tutors were paid out never exceeds what they earned
    for tutor in tutors:
        for currency, b in ledger.tutor_balances(tutor).items():
            earned = sum(p.amount_minor - p.fee_minor for p in Payment.objects.filter(payee=tutor, currency=currency))
            paid_out = sum(w.amount_minor for w in Withdrawal.objects.filter(tutor=tutor, currency=currency, status="paid"))
            assert b["pending"] + b["available"] + b["held"] + paid_out <= earned


class LedgerMachine(RuleBasedStateMachine):
    """The same property as a state machine: hypothesis picks each next step knowing the state, which
    reaches deep paths (paid, released, withdrawn, then refunded) without hand-written examples."""

    payments = Bundle("payments")
    withdrawals = Bundle("withdrawals")

    def __init__(self) -> None:
        super().__init__()
        n = uuid.uuid4().hex[:8]
        self.tutor = User.objects.create_user(f"t{n}@example.test", role=Role.TUTOR)
        self.student = User.objects.create_user(f"s{n}@example.test", role=Role.STUDENT)
        self.admin = User.objects.create_user(f"a{n}@example.test", role=Role.ADMIN)
        self.fake = self.bookings  # set by the test before running

    bookings: Any = None

    @rule(target=payments, amount=st.integers(1, 50_000))
    def pay(self, amount: int) -> Payment:
        booking_id = self.fake.add(self.student, self.tutor, amount, "USD")
        payment, _ = services.do_checkout(payer=self.student, kind="booking", object_id=booking_id)
        return payment

    @rule(payment=payments)
    def complete(self, payment: Payment) -> None:
        services.do_release(payment_id=payment.id)

    @rule(payment=payments, percent=st.sampled_from([None, 10, 50, 100]))
    def refund(self, payment: Payment, percent: int | None) -> None:
        amount = None if percent is None else max(1, payment.amount_minor * percent // 100)
        with contextlib.suppress(Conflict):
            services.do_refund(payment_id=payment.id, amount_minor=amount, key=f"sm:{uuid.uuid4()}")

    @rule(target=withdrawals, percent=st.sampled_from([50, 100, 101]))
    def withdraw(self, percent: int) -> Any:
        available = ledger.tutor_balances(self.tutor).get("USD", {}).get("available", 0)
        try:
            return services.do_request_withdrawal(
                tutor=self.tutor, amount_minor=max(1000, available * percent // 100), currency="USD"
            )
        except (Conflict, ValidationFailed):
            return multiple()

    @rule(withdrawal=withdrawals, approve=st.booleans())
    def decide(self, withdrawal: Withdrawal, approve: bool) -> None:
        with contextlib.suppress(Conflict):
            if approve:
                services.do_approve_withdrawal(withdrawal_id=withdrawal.id, admin=self.admin, reference="REF")
            else:
                services.do_reject_withdrawal(withdrawal_id=withdrawal.id, admin=self.admin)

    @invariant()
    def balanced_and_never_negative(self) -> None:
        _assert_invariants([self.tutor])


def test_the_ledger_state_machine(bookings):
    LedgerMachine.bookings = bookings
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)),
    )
