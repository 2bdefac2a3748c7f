"""Installs the platform's admin site in place of Django's default (kept import-light for settings)."""

from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "core.admin_site.PlatformAdminSite"
