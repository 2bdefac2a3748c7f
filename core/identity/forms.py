"""Extra signup fields for allauth: the role (student or tutor, never admin), names, time zone, terms."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from core.identity.validators import validate_timezone
from core.models import Role, User


class SignupExtraForm(forms.Form):
    role = forms.ChoiceField(choices=[(Role.STUDENT, "Student"), (Role.TUTOR, "Tutor")], required=False)
    first_name = forms.CharField(max_length=80, required=False)
    last_name = forms.CharField(max_length=80, required=False)
    timezone = forms.CharField(max_length=64, required=False, validators=[validate_timezone])
    terms_version = forms.CharField(max_length=32, required=False)

    def signup(self, request: HttpRequest, user: User) -> None:
        data = self.cleaned_data
        user.role = data.get("role") or Role.STUDENT
        user.first_name = data.get("first_name", "") or user.first_name
        user.last_name = data.get("last_name", "") or user.last_name
        if data.get("timezone"):
            user.timezone = data["timezone"]
        if data.get("terms_version"):
            user.terms_version = data["terms_version"]
            user.terms_accepted_at = timezone.now()
        user.is_staff = False
        user.save()
