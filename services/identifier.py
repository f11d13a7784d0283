"""The unique identifier: the 14-character personal number of an identity document."""

import re
from dataclasses import dataclass
from datetime import date

from services.errors import DomainError

PATTERN = re.compile(r"^[1-6]\d{6}[ABCKEMH]\d{3}(PB|BA|BI)\d$")
WEIGHTS = (7, 3, 1)
CENTURY_BY_FIRST_DIGIT = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}

# People type the number from a passport, often on a Russian or Belarusian keyboard.
CYRILLIC_LOOK_ALIKES = str.maketrans("АВСЕНКМРІавсенкмрі", "ABCEHKMPIABCEHKMPI")


@dataclass(frozen=True, slots=True)
class PersonalNumber:
    value: str
    birth_date: date
    sex: str  # "M" or "F"

    @property
    def masked(self) -> str:
        """Safe for logs and screens: the first and last two characters only."""
        return mask(self.value)


def normalise(raw: str) -> str:
    """Drop spaces and hyphens, upper-case, map Cyrillic look-alikes to Latin."""
    cleaned = re.sub("[\\s\\-\u2010-\u2015]", "", raw)
    return cleaned.translate(CYRILLIC_LOOK_ALIKES).upper()


def check_digit(first_thirteen: str) -> int:
    total = sum(
        _character_value(character) * WEIGHTS[position % 3]
        for position, character in enumerate(first_thirteen)
    )
    return total % 10


def parse(raw: str) -> PersonalNumber:
    """A valid personal number or DomainError: identifier_malformed / _check_digit / _date."""
    value = normalise(raw)
    if not PATTERN.fullmatch(value):
        raise DomainError("identifier_malformed")

    if check_digit(value[:13]) != int(value[13]):
        raise DomainError("identifier_check_digit")

    century = CENTURY_BY_FIRST_DIGIT[value[0]]
    try:
        birth_date = date(century + int(value[5:7]), int(value[3:5]), int(value[1:3]))
    except ValueError:
        raise DomainError("identifier_birth_date") from None

    sex = "M" if int(value[0]) % 2 else "F"
    return PersonalNumber(value=value, birth_date=birth_date, sex=sex)


def mask(value: str) -> str:
    if len(value) < 6:
        return "*" * len(value)
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


def _character_value(character: str) -> int:
    return int(character) if character.isdigit() else ord(character) - 55
