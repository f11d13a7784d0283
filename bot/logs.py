"""Log lines an operator can act on: an event phrase, then the key=value fields."""

import logging

_STANDARD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_FIELDS}
        if not fields:
            return line
        return line + " " + " ".join(f"{key}={value}" for key, value in sorted(fields.items()))


# These log each SQL statement with its parameters at DEBUG; a parameter can be the text of
# an SMS that carries a password, so they never log below WARNING, whatever the level.
STATEMENT_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")


def keep_statements_out_of_logs() -> None:
    for name in STATEMENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiogram logs every handled update at INFO with the user's id; that is noise here.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # APScheduler logs each run of our every-second jobs at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
