"""Belarusian mobile numbers in the forms people type, normalised to E.164."""

import re

from services.errors import DomainError

COUNTRY_CODE = "375"
# Mobile operators; a landline cannot receive the SMS the portal sends.
MOBILE_CODES = frozenset({"25", "29", "33", "44"})


def normalise_phone(raw: str) -> str:
    """+375XXXXXXXXX from `80291234567`, `+375 (29) 123-45-67` and the like."""
    digits = re.sub(r"[\s()\-.]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith(COUNTRY_CODE):
            raise DomainError("phone_not_belarusian")
    if not digits.isdigit():
        raise DomainError("phone_malformed")

    if digits.startswith(COUNTRY_CODE) and len(digits) == 12:
        national = digits[3:]
    elif digits.startswith("80") and len(digits) == 11:
        national = digits[2:]
    else:
        raise DomainError("phone_malformed")

    if national[:2] not in MOBILE_CODES:
        raise DomainError("phone_not_mobile")
    return f"+{COUNTRY_CODE}{national}"


def mask_phone(phone: str) -> str:
    """+375 29 ***-**-67: enough for a citizen to recognise the number."""
    if len(phone) != 13:
        return "***"
    return f"+375 {phone[4:6]} ***-**-{phone[-2:]}"
