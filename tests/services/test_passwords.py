import pytest

from services.errors import DomainError
from services.passwords import (
    UNAMBIGUOUS_ALPHABET,
    check_policy,
    generate_temporary_password,
    hash_password,
    verify_password,
)


def test_temporary_passwords_are_long_unambiguous_and_different() -> None:
    passwords = {generate_temporary_password() for _ in range(50)}

    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= 10
        assert set(password) <= set(UNAMBIGUOUS_ALPHABET)
        assert not set(password) & set("0O1lI")


async def test_hash_verifies_the_password_and_nothing_else() -> None:
    password_hash = await hash_password("Secret123")

    assert "Secret123" not in password_hash
    assert await verify_password(password_hash, "Secret123")
    assert not await verify_password(password_hash, "secret123")
    assert not await verify_password("not a hash", "Secret123")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("abc123", "password_too_short"),
        ("abcdefghij", "password_needs_letters_and_digits"),
        ("1234567890", "password_needs_letters_and_digits"),
        ("x3270287a012pb2", "password_contains_identifier"),
        ("Password1", "password_common"),
        ("Belarus2026", "password_common"),
        ("a1" * 65, "password_too_long"),
    ],
)
def test_policy_names_what_to_change(password: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_policy(password, identifier="3270287A012PB2")

    assert refused.value.code == code


def test_common_password_list_is_shipped_and_meets_the_other_rules() -> None:
    from services.passwords import common_passwords

    listed = common_passwords()

    assert len(listed) > 50
    assert all(len(p) >= 8 and any(c.isdigit() for c in p) for p in listed)


def test_policy_accepts_a_good_password() -> None:
    check_policy("Minsk2026spring", identifier="3270287A012PB2")
