"""Passwords: argon2 hashes computed off the event loop, generation and policy."""

import asyncio
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.errors import DomainError

# No 0/O, 1/l/I, 5/S, 2/Z: the password is read from an SMS and typed by hand.
UNAMBIGUOUS_ALPHABET = "abcdefghjkmnpqrtuvwxyABCDEFGHJKLMNPQRTUVWXY346789"
TEMPORARY_PASSWORD_LENGTH = 12
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased; lines starting with # are comments."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_temporary_password() -> str:
    """A crypto-random password with at least one letter and one digit."""
    while True:
        password = "".join(
            secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH)
        )
        if _has_letter_and_digit(password):
            return password


def check_policy(password: str, *, identifier: str) -> None:
    """Raise DomainError naming the first rule the password breaks."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError("password_too_long", maximum=MAX_PASSWORD_LENGTH)
    if not _has_letter_and_digit(password):
        raise DomainError("password_needs_letters_and_digits")
    if identifier.lower() in password.lower():
        raise DomainError("password_contains_identifier")
    if password.lower() in common_passwords():
        raise DomainError("password_common")


def _has_letter_and_digit(password: str) -> bool:
    return any(c.isalpha() for c in password) and any(c.isdigit() for c in password)
