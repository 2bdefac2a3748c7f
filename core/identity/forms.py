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

    def clean(self) -> dict:
        # allauth's headless signup validates the password without the user, so the similarity rule
        # (not like the e-mail or the names) would never run; check it here with a stand-in user.
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        cleaned = super().clean() or self.cleaned_data
        password, email = cleaned.get("password"), cleaned.get("email")
        if password and email:
            dummy = User(email=email, first_name=cleaned.get("first_name") or "", last_name=cleaned.get("last_name") or "")
            try:
                validate_password(password, dummy)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned

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
