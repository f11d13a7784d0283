from datetime import date

import pytest

from services.errors import DomainError
from services.forms import check_answer, check_attachment, missing_required

TODAY = date(2026, 12, 4)
CHOICE = {
    "name": "delivery",
    "type": "choice",
    "label": {"ru": "Как", "be": "Як", "en": "How"},
    "options": [
        {"value": "pickup", "label": {"ru": "Лично", "be": "Асабіста", "en": "In person"}},
        {"value": "post", "label": {"ru": "По почте", "be": "Па пошце", "en": "By post"}},
    ],
}


def refusal(field: dict, raw: str) -> str:
    with pytest.raises(DomainError) as refused:
        check_answer(field, raw, today=TODAY)
    return refused.value.code


def test_text_is_trimmed_and_kept_as_typed() -> None:
    assert check_answer({"type": "text"}, "  <b>Tom & Jerry</b> ", today=TODAY) == (
        "<b>Tom & Jerry</b>"
    )


def test_too_long_answer_says_how_long_and_the_limit() -> None:
    with pytest.raises(DomainError) as refused:
        check_answer({"type": "text"}, "x" * 5000, today=TODAY)

    assert refused.value.code == "answer_too_long"
    assert refused.value.params == {"maximum": 300, "length": 5000}


def test_empty_answer_is_refused() -> None:
    assert refusal({"type": "text"}, "   ") == "answer_required"


@pytest.mark.parametrize(("typed", "value"), [("12", 12), ("12,5", 12.5), ("1 000", 1000)])
def test_decimal_numbers_accept_a_decimal_comma(typed: str, value: float) -> None:
    assert check_answer({"type": "number", "decimal": True}, typed, today=TODAY) == value


def test_numbers_are_whole_unless_the_field_allows_decimals() -> None:
    assert check_answer({"type": "number"}, "3", today=TODAY) == 3
    assert refusal({"type": "number"}, "2,5") == "number_not_whole"


def test_number_out_of_range_and_not_a_number() -> None:
    field = {"type": "number", "min": 1, "max": 5}

    assert refusal(field, "7") == "number_out_of_range"
    assert refusal(field, "five") == "number_invalid"
    assert refusal(field, "nan") == "number_invalid"


def test_dates_must_exist_and_past_only_dates_not_be_future() -> None:
    assert check_answer({"type": "date"}, "29.02.2024", today=TODAY) == "2024-02-29"
    assert refusal({"type": "date"}, "31.02.2025") == "date_invalid"
    assert refusal({"type": "date", "past_only": True}, "05.12.2026") == "date_in_future"


def test_a_choice_may_be_typed_as_its_label_in_any_language() -> None:
    assert check_answer(CHOICE, "по почте", today=TODAY) == "post"
    assert check_answer(CHOICE, "In person", today=TODAY) == "pickup"
    assert refusal(CHOICE, "by pigeon") == "choice_invalid"


def test_yes_no_email_phone_and_personal_number() -> None:
    assert check_answer({"type": "yes_no"}, "Так", today=TODAY) is True
    assert check_answer({"type": "email"}, "a@b.by", today=TODAY) == "a@b.by"
    assert refusal({"type": "email"}, "a@b") == "email_invalid"
    assert check_answer({"type": "phone"}, "80291234567", today=TODAY) == "+375291234567"
    assert (
        check_answer({"type": "personal_number"}, "3270287a012pb2", today=TODAY)
        == "3270287A012PB2"
    )


def test_text_for_an_attachment_asks_for_a_file() -> None:
    assert refusal({"type": "attachment"}, "here it is") == "attachment_expected"


def test_attachment_type_size_and_count_are_limited() -> None:
    check_attachment("application/pdf", 1024, 0)

    for arguments, code in [
        (("application/zip", 10, 0), "attachment_type"),
        (("application/pdf", 11 * 2**20, 0), "attachment_too_large"),
        (("image/png", 10, 10), "attachment_too_many"),
    ]:
        with pytest.raises(DomainError) as refused:
            check_attachment(*arguments)
        assert refused.value.code == code


def test_missing_required_ignores_optional_fields() -> None:
    fields = [{"name": "a"}, {"name": "b", "required": False}, {"name": "c", "required": True}]

    assert missing_required(fields, {"a": "x", "c": ""}) == ["c"]
