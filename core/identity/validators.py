"""Validation of the user's locale settings: IANA zones, ISO 4217 currencies, language tags."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

# ISO 4217 active codes (2024), with minor-unit exponents for money formatting.
CURRENCIES: dict[str, tuple[str, int]] = {
    "AED": ("UAE Dirham", 2),
    "ARS": ("Argentine Peso", 2),
    "AUD": ("Australian Dollar", 2),
    "BDT": ("Taka", 2),
    "BGN": ("Bulgarian Lev", 2),
    "BHD": ("Bahraini Dinar", 3),
    "BRL": ("Brazilian Real", 2),
    "CAD": ("Canadian Dollar", 2),
    "CHF": ("Swiss Franc", 2),
    "CLP": ("Chilean Peso", 0),
    "CNY": ("Yuan Renminbi", 2),
    "COP": ("Colombian Peso", 2),
    "CZK": ("Czech Koruna", 2),
    "DKK": ("Danish Krone", 2),
    "EGP": ("Egyptian Pound", 2),
    "EUR": ("Euro", 2),
    "GBP": ("Pound Sterling", 2),
    "GHS": ("Ghana Cedi", 2),
    "HKD": ("Hong Kong Dollar", 2),
    "HUF": ("Forint", 2),
    "IDR": ("Rupiah", 2),
    "ILS": ("New Israeli Sheqel", 2),
    "INR": ("Indian Rupee", 2),
    "ISK": ("Iceland Krona", 0),
    "JOD": ("Jordanian Dinar", 3),
    "JPY": ("Yen", 0),
    "KES": ("Kenyan Shilling", 2),
    "KRW": ("Won", 0),
    "KWD": ("Kuwaiti Dinar", 3),
    "MAD": ("Moroccan Dirham", 2),
    "MXN": ("Mexican Peso", 2),
    "MYR": ("Malaysian Ringgit", 2),
    "NGN": ("Naira", 2),
    "NOK": ("Norwegian Krone", 2),
    "NZD": ("New Zealand Dollar", 2),
    "OMR": ("Rial Omani", 3),
    "PEN": ("Sol", 2),
    "PHP": ("Philippine Peso", 2),
    "PKR": ("Pakistan Rupee", 2),
    "PLN": ("Zloty", 2),
    "QAR": ("Qatari Rial", 2),
    "RON": ("Romanian Leu", 2),
    "RSD": ("Serbian Dinar", 2),
    "SAR": ("Saudi Riyal", 2),
    "SEK": ("Swedish Krona", 2),
    "SGD": ("Singapore Dollar", 2),
    "THB": ("Baht", 2),
    "TND": ("Tunisian Dinar", 3),
    "TRY": ("Turkish Lira", 2),
    "TWD": ("New Taiwan Dollar", 2),
    "TZS": ("Tanzanian Shilling", 2),
    "UAH": ("Hryvnia", 2),
    "UGX": ("Uganda Shilling", 0),
    "USD": ("US Dollar", 2),
    "VND": ("Dong", 0),
    "XAF": ("CFA Franc BEAC", 0),
    "XOF": ("CFA Franc BCEAO", 0),
    "ZAR": ("Rand", 2),
    "ZMW": ("Zambian Kwacha", 2),
}

_LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/London)", code="invalid_timezone")


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"{value!r} is not a supported ISO 4217 currency code", code="invalid_currency")


def validate_locale(value: str) -> None:
    if not _LOCALE_RE.match(value):
        raise ValidationError(f"{value!r} is not a language tag such as en, en-GB or pt-BR", code="invalid_locale")
