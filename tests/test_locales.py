"""Every text for people is translated into ru, be and en, placeholders and tags intact."""

import re

import pytest
from babel.messages.pofile import read_po

from scripts.update_locales import LOCALES, extract, po_path

PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?\w+>")


@pytest.fixture(scope="module")
def source_texts() -> set[str]:
    return {message.id for message in extract() if message.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_in_the_code_has_a_translation(locale: str, source_texts: set[str]) -> None:
    with po_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}

    missing = sorted(source_texts - set(translated))

    assert missing == [], "run scripts/update_locales.py and translate these"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_tags(locale: str) -> None:
    with po_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)

    broken = [
        message.id
        for message in catalog
        if message.id
        and message.string
        and (
            sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(message.string))
            or sorted(TAG.findall(message.id)) != sorted(TAG.findall(message.string))
        )
    ]

    assert broken == []
