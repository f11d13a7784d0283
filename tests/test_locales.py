"""Every text for people is translated into ru, be and en, placeholders and tags intact."""

import re

import pytest
from babel.messages.pofile import read_po

from scripts.update_locales import LOCALES, extract, po_path

PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?\w+>")


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """The forms of a message: one, or the singular and plurals of an ngettext one."""
    return (text,) if isinstance(text, str) else tuple(text)


@pytest.fixture(scope="module")
def source_texts() -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in extract()
        if message.id
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_in_the_code_has_a_translation(locale: str, source_texts: set[str]) -> None:
    with po_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and all(forms(m.string))
    }

    missing = sorted(source_texts - translated)

    assert missing == [], "run scripts/update_locales.py and translate these"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_tags(locale: str) -> None:
    with po_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)

    broken = [
        message.id
        for message in catalog
        if message.id
        for translation in forms(message.string)
        if translation
        and (
            sorted(PLACEHOLDER.findall(forms(message.id)[0]))
            != sorted(PLACEHOLDER.findall(translation))
            or sorted(TAG.findall(forms(message.id)[0])) != sorted(TAG.findall(translation))
        )
    ]

    assert broken == []
