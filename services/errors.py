"""Domain errors: a stable code that handlers and the CLI turn into words for people."""

from typing import Any


class DomainError(Exception):
    """A rule of the portal refused an action; `code` names which rule."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return self.code
