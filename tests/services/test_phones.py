import pytest

from services.errors import DomainError
from services.phones import mask_phone, normalise_phone


@pytest.mark.parametrize(
    "typed",
    ["80291234567", "+375 (29) 123-45-67", "375291234567", "+375291234567", "8 029 123 45 67"],
)
def test_common_local_forms_become_e164(typed: str) -> None:
    assert normalise_phone(typed) == "+375291234567"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("+7 916 123 45 67", "phone_not_belarusian"),
        ("+375 17 123 45 67", "phone_not_mobile"),
        ("8029123456", "phone_malformed"),
        ("call me", "phone_malformed"),
    ],
)
def test_foreign_landline_and_impossible_numbers_are_refused(typed: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_phone(typed)

    assert refused.value.code == code


def test_masked_phone_keeps_operator_and_last_digits() -> None:
    assert mask_phone("+375291234567") == "+375 29 ***-**-67"
