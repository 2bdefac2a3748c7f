"""This module's notification templates (plain text and HTML), one per type it sends."""

from __future__ import annotations

from core.notify import register_template

_HTML = (
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">'
    "<p>Hello {{ user.first_name|default:'there' }},</p>{body}"
    '<p style="color:#777;font-size:12px">You can change which e-mails you get in your notification settings.</p>'
    "</body></html>"
)

TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    # name: (category, subject, text body, html body)
    "booking_requested": (
        "bookings",
        "New booking request from {{ other_name }}",
        "{{ other_name }} asked to book a session on {{ starts_at_local }}. Please confirm or decline it.",
        "<p><strong>{{ other_name }}</strong> asked to book a session on {{ starts_at_local }}.</p><p>Please confirm or decline it.</p>",
    ),
    "booking_confirmed": (
        "bookings",
        "Booking confirmed with {{ other_name }}",
        "Your session with {{ other_name }} on {{ starts_at_local }} is confirmed.",
        "<p>Your session with <strong>{{ other_name }}</strong> on {{ starts_at_local }} is confirmed.</p>",
    ),
    "booking_cancelled": (
        "bookings",
        "Booking cancelled: {{ starts_at_local }}",
        "Your session with {{ other_name }} on {{ starts_at_local }} was cancelled.{% if reason %} Reason: {{ reason }}{% endif %}",
        "<p>Your session with <strong>{{ other_name }}</strong> on {{ starts_at_local }} was cancelled.</p>"
        "{% if reason %}<p>Reason: {{ reason }}</p>{% endif %}",
    ),
    "booking_rescheduled": (
        "bookings",
        "Session moved to {{ starts_at_local }}",
        "Your session with {{ other_name }} now takes place on {{ starts_at_local }}.",
        "<p>Your session with <strong>{{ other_name }}</strong> now takes place on {{ starts_at_local }}.</p>",
    ),
    "session_reminder_24h": (
        "bookings",
        "Reminder: session with {{ other_name }} tomorrow",
        "Your session with {{ other_name }} starts on {{ starts_at_local }}.",
        "<p>Your session with <strong>{{ other_name }}</strong> starts on {{ starts_at_local }}.</p>",
    ),
    "session_reminder_1h": (
        "bookings",
        "Starting soon: session with {{ other_name }}",
        "Your session with {{ other_name }} starts within the hour ({{ starts_at_local }}).",
        "<p>Your session with <strong>{{ other_name }}</strong> starts within the hour ({{ starts_at_local }}).</p>",
    ),
    "payment_received": (
        "payments",
        "Payment received: {{ amount }}",
        "We received your payment of {{ amount }}. Thank you.",
        "<p>We received your payment of <strong>{{ amount }}</strong>. Thank you.</p>",
    ),
    "withdrawal_processed": (
        "payments",
        "Withdrawal {{ status }}: {{ amount }}",
        "Your withdrawal of {{ amount }} is {{ status }}.",
        "<p>Your withdrawal of <strong>{{ amount }}</strong> is {{ status }}.</p>",
    ),
    "review_received": (
        "reviews",
        "New review: {{ rating }} of 5",
        "A student left you a review with {{ rating }} of 5 stars.",
        "<p>A student left you a review with <strong>{{ rating }} of 5</strong> stars.</p>",
    ),
    "tutor_approved": (
        "system",
        "Your tutor profile is approved",
        "Good news: your tutor profile is approved and students can now find and book you.",
        "<p>Good news: your tutor profile is approved and students can now find and book you.</p>",
    ),
    "tutor_rejected": (
        "system",
        "Your tutor profile needs changes",
        "Your tutor profile was not approved.{% if reason %} Reason: {{ reason }}{% endif %}",
        "<p>Your tutor profile was not approved.</p>{% if reason %}<p>Reason: {{ reason }}</p>{% endif %}",
    ),
    "new_message": (
        "messages",
        "{% if count > 1 %}{{ count }} new messages{% else %}New message{% endif %} from {{ sender_name }}",
        "{{ sender_name }} sent you {% if count > 1 %}{{ count }} messages{% else %}a message{% endif %} you have not read yet.",
        "<p><strong>{{ sender_name }}</strong> sent you {% if count > 1 %}{{ count }} messages{% else %}a message{% endif %}"
        " you have not read yet.</p>",
    ),
}


def register_templates() -> None:
    for name, (category, subject, text, html) in TEMPLATES.items():
        register_template(
            f"notifications.{name}",
            category=category,
            subject=subject,
            text="Hello {{ user.first_name|default:'there' }},\n\n" + text + "\n",
            html=_HTML.replace("{body}", html),
        )
