"""The notify port: how any module tells a user something.

``notify(user, category, template, context, key=...)``. Core's default renders the template and sends
a plain e-mail through a django-q2 task, at most once per key. The notifications module, when enabled,
registers a richer implementation (in-app, e-mail, push, preferences, quiet hours) under the same port.
Modules register their templates with :func:`register_template` in their ready().
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.template import Context, Template

from core.models import User
from core.registry import ports

logger = logging.getLogger(__name__)
PORT = "notify"

CATEGORIES = ("bookings", "messages", "payments", "reviews", "study_reminders", "reports", "system")


@dataclass(frozen=True)
class NotificationTemplate:
    name: str
    category: str
    subject: str  # Django template syntax
    text: str
    html: str = ""


_templates: dict[str, NotificationTemplate] = {}


def register_template(name: str, *, category: str, subject: str, text: str, html: str = "") -> None:
    if category not in CATEGORIES:
        raise ValueError(f"Unknown notification category {category!r}")
    _templates[name] = NotificationTemplate(name, category, subject, text, html)


def get_template(name: str) -> NotificationTemplate:
    try:
        return _templates[name]
    except KeyError:
        raise LookupError(f"No notification template {name!r} is registered") from None


def all_templates() -> dict[str, NotificationTemplate]:
    return dict(_templates)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """A template source compiled once per process: compiling cost more than rendering, on every
    notification. Keyed by the source, so a re-registered template is compiled afresh."""
    return Template(source)


def render(template: str, context: dict[str, Any]) -> Rendered:
    tpl = get_template(template)
    ctx = Context(context, autoescape=False)
    subject = " ".join(_compiled(tpl.subject).render(ctx).split())[:200]
    text = _compiled(tpl.text).render(ctx)
    html = _compiled(tpl.html).render(Context(context)) if tpl.html else ""
    return Rendered(subject, text, html)


class Notifier(Protocol):
    def __call__(
        self,
        user: User,
        category: str,
        template: str,
        context: dict[str, Any],
        *,
        key: str | None = None,
        attachments: list[tuple[str, bytes, str]] | None = None,
    ) -> None: ...


def email_notifier(
    user: User,
    category: str,
    template: str,
    context: dict[str, Any],
    *,
    key: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Core's default: one plain e-mail through a task, after commit, at most once per key."""
    if not user.is_usable or not user.email:
        return
    rendered = render(template, {"user": {"first_name": user.first_name, "full_name": user.full_name}, **context})
    effect_key = f"email:{key}" if key else None

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(
            "core.tasks.send_email",
            to=user.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            key=effect_key,
            attachments=attachments or [],
            q_options={"group": f"email:{category}"},
        )

    transaction.on_commit(enqueue)


def notify(
    user: User,
    category: str,
    template: str,
    context: dict[str, Any],
    *,
    key: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Tell ``user`` something; the enabled implementation decides the channels."""
    impl: Notifier = ports.get(PORT)
    impl(user, category, template, context, key=key, attachments=attachments)


ports.set_default(PORT, email_notifier)
