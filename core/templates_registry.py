"""Core's own notification templates."""

from core.notify import register_template


def register_core_templates() -> None:
    register_template(
        "core.generic",
        category="system",
        subject="{{ subject }}",
        text="Hello {{ user.first_name|default:'there' }},\n\n{{ body }}\n",
    )
    register_template(
        "core.export_ready",
        category="system",
        subject="Your data export is ready",
        text="Hello {{ user.first_name|default:'there' }},\n\nYour data export is ready: {{ url }}\nThe link works for 7 days.\n",
    )
