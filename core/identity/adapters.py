"""allauth adapters: e-mail goes through core's notify port; social signups become students."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest

from core.models import Role


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Verification codes and reset codes are security mail: sent at once, in the request, so a
        # user can continue; the rendered message is allauth's own (text and HTML templates).
        super().send_mail(template_prefix, email, context)

    def populate_username(self, request: HttpRequest, user: Any) -> None:  # no usernames here
        return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.role = Role.STUDENT
        user.email = (user.email or "").lower()
        return user
