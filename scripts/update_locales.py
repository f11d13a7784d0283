"""Extract the texts for people from the code and update locales/*/LC_MESSAGES/messages.po.

Run after changing any text in code: `uv run python scripts/update_locales.py`.
New texts appear with an empty translation; the test suite fails until all are filled.
"""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "handlers", "services")
KEYWORDS = {
    "_": None,
    "__": None,
    "N_": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
LOCALES = ("ru", "be", "en")
DOMAIN = "messages"


def extract() -> Catalog:
    template = Catalog(project="eportal-bot", fuzzy=False)
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            template.add(
                message,
                None,
                [(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(locale: str) -> Path:
    return ROOT / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update(template: Catalog) -> None:
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as po_file:
                catalog = read_po(po_file, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="eportal-bot", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po_file:
            write_po(po_file, catalog, width=99, omit_header=False, sort_output=False)
        missing = sum(1 for message in catalog if message.id and not message.string)
        print(f"{locale}: {len(catalog)} texts, {missing} without translation")


if __name__ == "__main__":
    update(extract())
