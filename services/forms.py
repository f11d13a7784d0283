"""Form fields from the catalog: checking a citizen's answer and showing it back."""

import re
from datetime import date, datetime
from typing import Any

from services.errors import DomainError
from services.identifier import parse as parse_personal_number
from services.phones import normalise_phone

DEFAULT_MAX_LENGTH = {"text": 300, "multiline": 2000, "address": 300}
OTHER_MAX_LENGTH = 100
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y")
YES_WORDS = frozenset({"yes", "y", "да", "так", "+"})
NO_WORDS = frozenset({"no", "n", "нет", "не", "-"})
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_FILES = 10
ATTACHMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def check_answer(field: dict[str, Any], raw: str, *, today: date) -> Any:
    """The answer as stored (str, int, float, bool or ISO date) or DomainError saying why not."""
    text = raw.strip()
    if not text:
        raise DomainError("answer_required")

    kind = field["type"]
    maximum = field.get("max_length") or DEFAULT_MAX_LENGTH.get(kind, OTHER_MAX_LENGTH)
    if len(text) > maximum:
        raise DomainError("answer_too_long", maximum=maximum, length=len(text))

    checker = _CHECKERS.get(kind)
    if checker is None:
        raise DomainError("attachment_expected")
    return checker(field, text, today)


def check_choice(field: dict[str, Any], raw: str) -> str:
    """An option's value, from a pressed button's value or a label typed in any language."""
    wanted = raw.strip().casefold()
    for option in field.get("options", []):
        labels = option["label"].values() if isinstance(option["label"], dict) else ()
        if wanted == option["value"].casefold() or wanted in (x.casefold() for x in labels):
            return option["value"]
    raise DomainError("choice_invalid")


def check_yes_no(raw: str) -> bool:
    word = raw.strip().casefold()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise DomainError("yes_no_invalid")


def check_attachment(mime_type: str | None, size: int | None, count_so_far: int) -> None:
    if count_so_far >= ATTACHMENT_MAX_FILES:
        raise DomainError("attachment_too_many", maximum=ATTACHMENT_MAX_FILES)
    if mime_type not in ATTACHMENT_TYPES:
        raise DomainError("attachment_type")
    if size is not None and size > ATTACHMENT_MAX_BYTES:
        raise DomainError("attachment_too_large", maximum_mb=ATTACHMENT_MAX_BYTES // 2**20)


def missing_required(fields: list[dict[str, Any]], answers: dict[str, Any]) -> list[str]:
    return [
        field["name"]
        for field in fields
        if field.get("required", True) and answers.get(field["name"]) in (None, "", [])
    ]


def _text(field: dict[str, Any], text: str, today: date) -> str:
    return text


def _number(field: dict[str, Any], text: str, today: date) -> int | float:
    # People here write decimals with a comma.
    cleaned = text.replace(" ", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise DomainError("number_invalid") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DomainError("number_invalid")
    if not value.is_integer() and not field.get("decimal"):
        raise DomainError("number_not_whole")
    minimum, maximum = field.get("min"), field.get("max")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise DomainError("number_out_of_range", minimum=minimum, maximum=maximum)
    return int(value) if value.is_integer() else value


def _date(field: dict[str, Any], text: str, today: date) -> str:
    for date_format in DATE_FORMATS:
        try:
            value = datetime.strptime(text, date_format).date()
        except ValueError:
            continue
        if field.get("past_only") and value > today:
            raise DomainError("date_in_future")
        return value.isoformat()
    raise DomainError("date_invalid")


def _email(field: dict[str, Any], text: str, today: date) -> str:
    if not EMAIL.fullmatch(text):
        raise DomainError("email_invalid")
    return text


def _phone(field: dict[str, Any], text: str, today: date) -> str:
    return normalise_phone(text)


def _personal_number(field: dict[str, Any], text: str, today: date) -> str:
    return parse_personal_number(text).value


def _choice(field: dict[str, Any], text: str, today: date) -> str:
    return check_choice(field, text)


def _yes_no(field: dict[str, Any], text: str, today: date) -> bool:
    return check_yes_no(text)


_CHECKERS = {
    "text": _text,
    "multiline": _text,
    "address": _text,
    "number": _number,
    "date": _date,
    "email": _email,
    "phone": _phone,
    "personal_number": _personal_number,
    "choice": _choice,
    "yes_no": _yes_no,
}
