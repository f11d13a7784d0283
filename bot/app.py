"""Start-up: database, catalog, bot, dispatcher, scheduler; and the polling loop."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.dispatcher import SerialChatDispatcher
from bot.fsm import DatabaseStorage
from bot.i18n import ChosenLocaleMiddleware, PoI18n
from bot.logs import keep_statements_out_of_logs
from bot.middlewares import (
    DatabaseMiddleware,
    PersonMiddleware,
    PrivateChatsOnlyMiddleware,
)
from bot.notifier import Notifier
from bot.settings import Settings
from handlers import build_router
from services import catalog
from services.access import AccessPolicy
from services.sms import ConsoleSms, HttpSms, SmsGateway
from services.sms_outbox import deliver_due_sms
from services.texts import LOCALES, N_, Translator
from services.throttle import AttemptThrottle
from storage import migrate
from storage.db import create_engine, create_session_factory

log = logging.getLogger(__name__)


def access_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        max_attempts=settings.login_max_attempts,
        first_lock=settings.login_lock,
        idle_timeout=settings.session_idle_timeout,
        max_age=settings.session_max_age,
    )


def sms_gateway(settings: Settings) -> SmsGateway:
    if settings.sms_provider == "http":
        if not settings.sms_http_url:
            raise ValueError("SMS_PROVIDER=http needs SMS_HTTP_URL")
        token = settings.sms_http_token.get_secret_value() if settings.sms_http_token else None
        return HttpSms(settings.sms_http_url, token)
    return ConsoleSms()


def translator_for(settings: Settings) -> Translator:
    return Translator.from_dir(
        settings.locales_dir, default_locale=settings.default_locale, timezone=settings.timezone
    )


async def prepare_database(settings: Settings, *, load_catalog: bool = True) -> AsyncEngine:
    """Create and migrate the database, then bring the catalog up to date."""
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    session_factory = create_session_factory(engine)
    if not load_catalog:
        return engine
    if settings.catalog_file.exists():
        async with session_factory() as db:
            await catalog.load_catalog(db, settings.catalog_file)
    else:
        log.warning("catalog file missing", extra={"path": str(settings.catalog_file)})
    return engine


@dataclass
class Portal:
    """Everything a running bot holds, so that tests and the CLI start and stop it alike."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    translator: Translator
    sms: SmsGateway
    notifier: Notifier
    scheduler: AsyncIOScheduler = field(default_factory=AsyncIOScheduler)
    _sms_round: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send_sms(self) -> int:
        """One round of the SMS outbox job."""
        async with self._sms_round, self.session_factory() as db:
            return await deliver_due_sms(db, self.sms)

    async def run_polling(self) -> None:
        every = self.settings.notification_poll_interval.total_seconds()
        for job in (self.notifier.deliver_due, self.send_sms):
            self.scheduler.add_job(job, "interval", seconds=every, max_instances=1, coalesce=True)
        self.scheduler.start()
        await publish_commands(self.bot, self.i18n)
        try:
            await self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
        finally:
            # Let a round in progress finish: an SMS handed over but not marked sent would
            # go out twice after the restart.
            self.scheduler.pause()
            await self.notifier.wait_idle()
            async with self._sms_round:
                self.scheduler.shutdown(wait=False)

    async def close(self) -> None:
        await self.notifier.wait_idle()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


COMMANDS = (
    ("menu", N_("Main menu")),
    ("login", N_("Sign in")),
    ("applications", N_("My applications")),
    ("logout", N_("Sign out")),
    ("language", N_("Language")),
    ("help", N_("What the identifier is and how to get it")),
)


async def publish_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu Telegram shows, in each language we speak."""
    for locale in (None, *LOCALES):
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=locale))
            for name, text in COMMANDS
        ]
        await bot.set_my_commands(commands, language_code=locale)


async def build_portal(settings: Settings, *, sms: SmsGateway | None = None) -> Portal:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is not set")
    keep_statements_out_of_logs()
    engine = await prepare_database(settings)
    session_factory = create_session_factory(engine)
    i18n = PoI18n(path=settings.locales_dir, default_locale=settings.default_locale)
    translator = translator_for(settings)
    sms = sms or sms_gateway(settings)

    bot = Bot(
        settings.bot_token.get_secret_value(),
        session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dispatcher = build_dispatcher(settings, session_factory, i18n, translator, sms)
    notifier = Notifier(bot, session_factory, i18n, send_rate=settings.effective_send_rate)
    return Portal(
        settings, engine, session_factory, bot, dispatcher, i18n, translator, sms, notifier
    )


def fsm_storage(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> BaseStorage:
    """Conversation state: in Redis when several processes serve the bot, else in the database."""
    if settings.redis_url:
        return RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(prefix="eportal", with_destiny=True)
        )
    return DatabaseStorage(session_factory)


def build_dispatcher(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    i18n: I18n,
    translator: Translator,
    sms: SmsGateway,
) -> Dispatcher:
    dispatcher = SerialChatDispatcher(storage=fsm_storage(settings, session_factory))
    dispatcher["policy"] = access_policy(settings)
    dispatcher["translator"] = translator
    dispatcher["sms"] = sms
    dispatcher["password_ttl"] = settings.temporary_password_ttl
    dispatcher["otp_enabled"] = settings.otp_enabled
    # Ten wrong passwords in a second from one chat: five are checked, the rest wait.
    dispatcher["sign_in_throttle"] = AttemptThrottle(limit=5, window=timedelta(minutes=1))

    dispatcher.update.outer_middleware(PrivateChatsOnlyMiddleware())
    dispatcher.update.outer_middleware(DatabaseMiddleware(session_factory))
    dispatcher.update.outer_middleware(
        PersonMiddleware(access_policy(settings), admin_ids=frozenset(settings.admin_ids))
    )
    ChosenLocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_router(build_router())
    return dispatcher


async def run(settings: Settings) -> None:
    if settings.webhook_url:
        # TODO: webhook mode; polling serves until a public HTTPS endpoint is set up.
        raise ValueError("webhook mode is not available yet; unset WEBHOOK_URL to poll")
    portal = await build_portal(settings)
    log.info("bot starting", extra={"api": settings.telegram_api_url})
    try:
        await portal.run_polling()
    finally:
        await portal.close()


def main(settings: Settings) -> None:
    asyncio.run(run(settings))
