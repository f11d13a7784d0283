"""Translations for text made outside a chat (SMS, pushed notifications, the CLI).

The gettext catalogs are the `.po` files under `locales/`, compiled in memory at start-up
so that no binary `.mo` file has to be built or committed.
"""

import gettext
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
LOCALES = ("ru", "be", "en")


def N_(message: str) -> str:
    """Mark a text for extraction; it is translated where it is shown."""
    return message


def load_catalogs(locales_dir: Path, domain: str = DOMAIN) -> dict[str, gettext.GNUTranslations]:
    catalogs: dict[str, gettext.GNUTranslations] = {}
    for locale in LOCALES:
        po_path = locales_dir / locale / "LC_MESSAGES" / f"{domain}.po"
        if not po_path.exists():
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        catalogs[locale] = gettext.GNUTranslations(compiled)
    return catalogs


class Translator:
    """gettext by locale name, with local-time formatting for people."""

    def __init__(
        self,
        catalogs: dict[str, gettext.GNUTranslations],
        *,
        default_locale: str = "ru",
        timezone: str = "Europe/Minsk",
    ) -> None:
        self.catalogs = catalogs
        self.default_locale = default_locale
        self.zone = ZoneInfo(timezone)

    @classmethod
    def from_dir(cls, locales_dir: Path, **options: str) -> "Translator":
        return cls(load_catalogs(locales_dir), **options)

    def gettext(self, message: str, *, locale: str | None = None) -> str:
        catalog = self.catalogs.get(locale or self.default_locale)
        return catalog.gettext(message) if catalog else message

    def format_datetime(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%d.%m.%Y %H:%M")
