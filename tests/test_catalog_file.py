"""The shipped catalog: valid against its schema, complete in three languages."""

import json

import jsonschema
import pytest

from bot.settings import PROJECT_ROOT
from services.texts import LOCALES

CATALOG_DIR = PROJECT_ROOT / "catalog"
FIELD_TYPES = {
    "text",
    "multiline",
    "number",
    "date",
    "choice",
    "yes_no",
    "phone",
    "personal_number",
    "address",
    "email",
    "attachment",
}


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads((CATALOG_DIR / "procedures.json").read_text(encoding="utf-8"))


def test_catalog_validates_against_its_schema(shipped: dict) -> None:
    schema = json.loads((CATALOG_DIR / "schema.json").read_text(encoding="utf-8"))

    jsonschema.validate(shipped, schema)


def test_every_text_exists_in_every_language(shipped: dict) -> None:
    missing = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict) and {"ru", "be", "en"} & set(node):
            missing.extend(f"{path}.{lang}" for lang in LOCALES if not node.get(lang))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(shipped, "catalog")

    assert missing == []


def test_catalog_is_large_unique_and_uses_every_field_type(shipped: dict) -> None:
    codes = [procedure["code"] for procedure in shipped["procedures"]]
    types = {field["type"] for p in shipped["procedures"] for field in p["fields"]}

    assert len(codes) >= 25
    assert len(codes) == len(set(codes))
    assert types == FIELD_TYPES


def test_button_texts_fit_in_a_telegram_button(shipped: dict) -> None:
    too_long = [
        (procedure["code"], lang)
        for procedure in shipped["procedures"]
        for lang, title in procedure["short_title"].items()
        if len(f"{procedure['code']} · {title}") > 64
    ]

    assert too_long == []
