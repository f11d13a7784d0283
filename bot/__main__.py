"""`python -m bot` runs the bot, like `eportal run`; other words go to the CLI."""

import sys

from bot.cli import app

if __name__ == "__main__":
    app(args=sys.argv[1:] or ["run"], prog_name="eportal")
