from sqlalchemy.ext.asyncio import AsyncSession

from services import catalog
from tests.conftest import TEST_CATALOG


async def codes(db: AsyncSession, query: str) -> list[str]:
    return [procedure.code for procedure in await catalog.search_procedures(db, query)]


async def test_search_finds_by_item_number_and_by_words_in_any_language(
    db: AsyncSession,
) -> None:
    await catalog.load_catalog(db, TEST_CATALOG)

    assert await codes(db, "18.7") == ["18.7"]
    assert await codes(db, "18") == ["18.7"]
    assert await codes(db, "13.2.") == ["13.2"]
    assert await codes(db, "справку об отсутствии") == ["18.7"]
    assert await codes(db, "даведка") == ["18.7"]
    assert await codes(db, "place of stay") == ["13.2"]
    assert await codes(db, "") == []
    assert await codes(db, "1") == []


async def test_categories_count_current_procedures(db: AsyncSession) -> None:
    await catalog.load_catalog(db, TEST_CATALOG)

    found = await catalog.categories(db)

    assert [(category.id, category.size) for category in found] == [("certificates", 2)]
    assert found[0].title["be"] == "Даведкі"
