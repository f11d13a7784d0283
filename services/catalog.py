"""The catalog of administrative procedures: loading the shipped file and reading it."""

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import DomainError
from storage.models import Procedure

log = logging.getLogger(__name__)

CODE_QUERY = re.compile(r"\d+(\.\d+)*")
WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class LoadReport:
    added: int
    revised: int
    unchanged: int
    retired: int


def read_catalog_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DomainError("catalog_unreadable", reason=str(error)) from None
    if not isinstance(data, dict) or not isinstance(data.get("procedures"), list):
        raise DomainError("catalog_unreadable", reason="no procedures list")
    return data


async def load_catalog(db: AsyncSession, path: Path, *, actor: str = "system") -> LoadReport:
    """Add new procedures and new revisions; applications keep the revision they were filed on."""
    data = read_catalog_file(path)
    categories = {item["id"]: item["title"] for item in data.get("categories", [])}
    existing = {(row.code, row.revision): row for row in await db.scalars(select(Procedure))}
    listed_codes = {item["code"] for item in data["procedures"]}
    added = revised = unchanged = retired = 0

    for item in data["procedures"]:
        row = existing.get((item["code"], item["revision"]))
        if row is not None:
            unchanged += 1
            continue
        if any(code == item["code"] for code, _ in existing):
            revised += 1
        else:
            added += 1
        await _retire_older(db, item["code"])
        db.add(_procedure_row(item, categories))

    for row in existing.values():
        if row.is_current and row.code not in listed_codes:
            row.is_current = False
            retired += 1

    report = LoadReport(added, revised, unchanged, retired)
    audit.record(
        db,
        actor=actor,
        action="catalog.loaded",
        subject=path.name,
        added=added,
        revised=revised,
        retired=retired,
    )
    await db.commit()
    log.info("catalog loaded", extra=asdict(report))
    return report


async def _retire_older(db: AsyncSession, code: str) -> None:
    for row in await db.scalars(select(Procedure).where(Procedure.code == code)):
        row.is_current = False


def _procedure_row(item: dict[str, Any], categories: dict[str, Any]) -> Procedure:
    term = item.get("term", {})
    content_keys = (
        "title",
        "short_title",
        "body",
        "term_text",
        "validity",
        "documents",
        "superior_body",
        "electronic",
        "certainty",
    )
    content = {key: item.get(key) for key in content_keys}
    content["category_title"] = categories.get(item["category"])
    return Procedure(
        code=item["code"],
        revision=item["revision"],
        category=item["category"],
        is_current=True,
        term_days=term.get("days"),
        term_months=term.get("months"),
        fee_base_units=item.get("fee_base_units", 0),
        content=content,
        fields=item["fields"],
    )


async def current_procedures(db: AsyncSession) -> list[Procedure]:
    rows = await db.scalars(select(Procedure).where(Procedure.is_current.is_(True)))
    return sorted(rows, key=lambda row: _code_key(row.code))


async def current_revision(db: AsyncSession, code: str) -> Procedure | None:
    return await db.scalar(
        select(Procedure).where(Procedure.code == code, Procedure.is_current.is_(True))
    )


def carry_answers(
    answers: dict[str, Any], old: Procedure, new: Procedure
) -> tuple[dict[str, Any], int]:
    """Answers that still fit the new revision, and the first question left to ask."""
    old_types = {field["name"]: field["type"] for field in old.fields}
    kept = {
        field["name"]: answers[field["name"]]
        for field in new.fields
        if field["name"] in answers and old_types.get(field["name"]) == field["type"]
    }
    unanswered = [index for index, field in enumerate(new.fields) if field["name"] not in kept]
    return kept, unanswered[0] if unanswered else len(new.fields)


async def get_procedure(db: AsyncSession, procedure_id: int) -> Procedure:
    procedure = await db.get(Procedure, procedure_id)
    if procedure is None:
        raise DomainError("procedure_not_found")
    return procedure


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    title: dict[str, str]
    size: int


async def categories(db: AsyncSession) -> list[Category]:
    """The categories of the current procedures, in catalog order, with their sizes."""
    found: dict[str, Category] = {}
    for procedure in await current_procedures(db):
        known = found.get(procedure.category)
        title = procedure.content.get("category_title") or {"ru": procedure.category}
        found[procedure.category] = Category(
            procedure.category, title, (known.size if known else 0) + 1
        )
    return list(found.values())


async def search_procedures(db: AsyncSession, query: str, *, limit: int = 10) -> list[Procedure]:
    """Procedures whose item number starts with the query, or whose titles in any of the
    three languages hold every word of it."""
    text = query.strip().casefold().rstrip(".")
    if not text:
        return []
    procedures = await current_procedures(db)
    if CODE_QUERY.fullmatch(text):
        return [p for p in procedures if p.code == text or p.code.startswith(f"{text}.")][:limit]
    stems = [_stem(word) for word in WORD.findall(text)]
    return [p for p in procedures if all(stem in _haystack(p) for stem in stems)][:limit]


def _stem(word: str) -> str:
    """Drop a Russian or Belarusian ending, roughly: «справку» finds «справка»."""
    return word if len(word) <= 4 else word[: max(4, len(word) - 2)]


def _haystack(procedure: Procedure) -> str:
    content = procedure.content
    texts = [procedure.code]
    for key in ("title", "short_title", "body"):
        value = content.get(key)
        if isinstance(value, dict):
            texts.extend(value.values())
    return " ".join(texts).casefold()


def localised(texts: Any, locale: str) -> Any:
    """The text in `locale`, falling back to Russian, for a {"ru", "be", "en"} object."""
    if not isinstance(texts, dict):
        return texts
    return texts.get(locale) or texts.get("ru") or next(iter(texts.values()), "")


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split(".") if part.isdigit())
