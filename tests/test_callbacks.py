"""Every button's callback data fits Telegram's 64 bytes, whatever the names involved."""

import secrets

from handlers.callbacks import (
    ApplicationAction,
    ApplicationsPage,
    FormAction,
    OneWindowAction,
    OneWindowStart,
    ProcedureAction,
    ProcedurePage,
)

BIGGEST_ID = 2**63 - 1


def test_callback_data_stays_within_64_bytes_at_its_largest() -> None:
    token = secrets.token_urlsafe(9)
    largest = [
        ProcedureAction(action="card", procedure_id=BIGGEST_ID),
        ProcedurePage(page=10**6, category="certificates_and_archives_x"),
        FormAction(token=token, action="edit_menu", index=10**6),
        ApplicationAction(action="withdraw", application_id=BIGGEST_ID, page=10**6),
        ApplicationsPage(page=10**9),
        OneWindowStart(kind="change_phone"),
        OneWindowAction(token=secrets.token_urlsafe(9), action="attest", value="residence_permit"),
    ]

    sizes = {type(data).__name__: len(data.pack().encode()) for data in largest}

    assert max(sizes.values()) <= 64, sizes


def test_names_never_travel_in_callback_data() -> None:
    # A procedure is named by its database id: a Cyrillic title of any length stays out.
    packed = ProcedureAction(action="card", procedure_id=7).pack()

    assert packed == "p:card:7"
