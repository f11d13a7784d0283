"""aiogram routers, one per feature, built afresh for each dispatcher."""

from aiogram import Router

from handlers import (
    admin,
    applications,
    apply,
    cabinet,
    fallback,
    one_window,
    sign_in,
    start,
)
from handlers.errors import on_error
from handlers.guard import RequireSessionMiddleware


def build_router() -> Router:
    root = Router(name="root")
    root.include_routers(start.create_router(), sign_in.create_router())
    root.include_router(one_window.create_router())
    root.include_router(admin.create_router())
    citizen_only_routers = (
        apply.create_router(),
        applications.create_router(),
        cabinet.create_router(),
    )
    for citizen_only in citizen_only_routers:
        guard = RequireSessionMiddleware()
        citizen_only.message.middleware(guard)
        citizen_only.callback_query.middleware(guard)
        root.include_router(citizen_only)
    root.include_router(fallback.create_router())
    root.errors.register(on_error)
    return root
