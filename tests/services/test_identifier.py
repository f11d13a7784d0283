import pytest

from services.errors import DomainError
from services.identifier import mask, normalise, parse


@pytest.mark.parametrize(
    "value",
    ["3270287A012PB2", "3041088A042PB2", "4150390H001PB0", "5010105M123PB6", "3311285C045BA7"],
)
def test_valid_personal_numbers_are_accepted(value: str) -> None:
    assert parse(value).value == value


@pytest.mark.parametrize("value", ["3270287A012PB3", "3120575A001PB4"])
def test_wrong_check_digit_is_refused(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse(value)

    assert refused.value.code == "identifier_check_digit"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "3270287A012PB",
        "7270287A012PB2",
        "3270287Z012PB2",
        "3270287A012XX2",
        "32702870012PB2",
        "3270287A012PB22",
    ],
)
def test_malformed_numbers_are_refused(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse(value)

    assert refused.value.code == "identifier_malformed"


def test_birth_date_and_sex_are_read_from_the_number() -> None:
    parsed = parse("4150390H001PB0")

    assert (parsed.birth_date.isoformat(), parsed.sex) == ("1990-03-15", "F")


def test_input_is_normalised_from_spaces_hyphens_case_and_cyrillic() -> None:
    typed = " 3270287а012-рв 2 "  # Cyrillic а, р, в typed on a Russian keyboard

    assert normalise(typed) == "3270287A012PB2"
    assert parse(typed).value == "3270287A012PB2"
    assert normalise("3270287A012ВІ7") == "3270287A012BI7"  # Belarusian І


def test_a_date_that_does_not_exist_is_refused() -> None:
    # 31 February 1987, with a check digit that fits, so only the date is wrong.
    from services.identifier import check_digit

    body = "3310287A012PB"
    with pytest.raises(DomainError) as refused:
        parse(body + str(check_digit(body)))

    assert refused.value.code == "identifier_birth_date"


def test_mask_shows_only_the_ends() -> None:
    assert mask("3270287A012PB2") == "32**********B2"
