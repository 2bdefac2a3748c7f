"""The Django admin for operators: staff admins only, with a second factor (allauth MFA)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path


def admin_requires_mfa() -> bool:
    return getattr(settings, "ADMIN_REQUIRE_MFA", settings.PRODUCTION)


class MFAAdminAuthenticationForm(AdminAuthenticationForm):
    """Password, then the TOTP or a recovery code when the account has MFA (required in production)."""

    otp = forms.CharField(label="Authenticator or recovery code", required=False, max_length=32)

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_usable", False) or getattr(user, "role", "") != "admin":
            raise forms.ValidationError("Only active platform admins may use this site.", code="invalid_login")
        from allauth.mfa.models import Authenticator

        authenticators = list(
            Authenticator.objects.filter(user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES])
        )
        if not authenticators:
            if admin_requires_mfa():
                raise forms.ValidationError(
                    "Set up two-factor authentication in your account before using the admin.", code="mfa_required"
                )
            return
        code = (self.cleaned_data.get("otp") or "").strip()
        if not code or not any(a.wrap().validate_code(code) for a in authenticators):
            raise forms.ValidationError("Enter a valid authenticator or recovery code.", code="mfa_invalid")


class PlatformAdminSite(admin.AdminSite):
    site_header = "Tutoring Platform operations"
    site_title = "Operations"
    login_form = MFAAdminAuthenticationForm
    login_template = "admin/mfa_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and getattr(user, "role", "") == "admin"
            and getattr(user, "deleted_at", None) is None
        )

    def get_urls(self) -> list[URLPattern]:
        return [path("modules/", self.admin_view(self.modules_view), name="modules"), *super().get_urls()]

    def modules_view(self, request: HttpRequest) -> HttpResponse:
        from core.management.commands.modules import module_report

        context = {**self.each_context(request), "title": "Modules", "modules": module_report()}
        return TemplateResponse(request, "admin/modules.html", context)
