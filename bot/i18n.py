"""aiogram's i18n over our `.po` catalogs, and the locale of each update."""

import gettext
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from services.texts import LOCALES, load_catalogs


class PoI18n(I18n):
    """Loads `.po` files directly (compiled in memory) instead of prebuilt `.mo` files."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return load_catalogs(self.path, self.domain)

    @contextmanager
    def context(self) -> Generator[I18n, None, None]:
        # aiogram's gettext looks the current instance up on I18n itself; a subclass keeps
        # its own context variable, so register there.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


class ChosenLocaleMiddleware(I18nMiddleware):
    """The language chosen in the bot; before a choice, Telegram's if we speak it."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("chosen_locale")
        if chosen:
            return str(chosen)
        user: User | None = data.get("event_from_user")
        code = (user.language_code or "")[:2] if user else ""
        return code if code in LOCALES else self.i18n.default_locale
