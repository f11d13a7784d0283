"""Settings from the environment or `.env` (DESIGN §7)."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Locale = Literal["ru", "be", "en"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///data/eportal.sqlite3"
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: Locale = "ru"

    sms_provider: Literal["console", "http"] = "console"
    sms_http_url: str | None = None
    sms_http_token: SecretStr | None = None

    timezone: str = "Europe/Minsk"
    otp_enabled: bool = True
    login_max_attempts: int = Field(default=5, ge=1)
    login_lock: timedelta = timedelta(minutes=15)
    session_idle_timeout: timedelta = timedelta(minutes=15)
    session_max_age: timedelta = timedelta(hours=8)
    temporary_password_ttl: timedelta = timedelta(hours=72)
    send_rate: int = Field(default=30, ge=1, le=1000)
    paid_broadcast: bool = False

    notification_poll_interval: timedelta = timedelta(seconds=2)
    catalog_file: Path = PROJECT_ROOT / "catalog" / "procedures.json"
    locales_dir: Path = PROJECT_ROOT / "locales"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value

    @field_validator(
        "login_lock",
        "session_idle_timeout",
        "session_max_age",
        "temporary_password_ttl",
        "notification_poll_interval",
        mode="before",
    )
    @classmethod
    def _seconds_as_duration(cls, value: object) -> object:
        # The environment gives strings; "900" means seconds, as "PT15M" means minutes.
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value

    @property
    def effective_send_rate(self) -> int:
        """Messages a second; Telegram allows more than 30 only for paid broadcasts."""
        return self.send_rate if self.paid_broadcast else min(self.send_rate, 30)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
