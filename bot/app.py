"""The one aiohttp server: Slack at /slack/events, Teams at /api/messages, health, draft links."""

from __future__ import annotations

import gc
import logging

from aiohttp import web

from bot.config import Settings
from bot.links import is_current
from bot.runtime import Runtime
from storage.models import Meeting

log = logging.getLogger(__name__)

RUNTIME_KEY = web.AppKey("runtime", Runtime)
LINK_GONE = "Lenken er ugyldig, trukket tilbake eller utløpt. / The link is invalid, revoked or expired."

async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    try:
        async with runtime.db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        log.warning("health check: the database is unreachable: %s", exc)
        return web.json_response({"status": "degraded", "database": "unreachable"}, status=503)
    return web.json_response(
        {
            "status": "ok",
            "slack": runtime.settings.slack_enabled,
            "teams": runtime.messengers.for_platform("teams") is not None,
        }
    )


async def draft_download(request: web.Request) -> web.Response:
    """Serve a draft behind a signed, expiring token; anything else is a plain 404/410."""
    from handlers.referat import compile_draft

    runtime = request.app[RUNTIME_KEY]
    token = runtime.links.read(request.match_info["token"])
    if token is not None:
        async with runtime.db.session() as session:
            meeting = await session.get(Meeting, token.meeting_id)
        if not is_current(token, meeting):
            token = None
    if token is None:
        return web.Response(status=404, text=LINK_GONE)
    if token.fmt.startswith("final-"):
        return await _final_download(runtime, token.meeting_id, token.fmt.removeprefix("final-"))
    draft = await compile_draft(
        runtime.db, token.meeting_id, token.fmt, locale=token.locale, now=runtime.ctx.now()
    )
    if draft is None:
        return web.Response(status=404, text="Fant ikke møtet. / Meeting not found.")
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if token.fmt == "html":
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    else:
        headers["Content-Disposition"] = f'attachment; filename="{draft.filename}"'
    return web.Response(
        body=draft.content,
        content_type=draft.mime_type.split(";")[0],
        charset=("utf-8" if draft.mime_type.startswith("text/") else None),
        headers=headers,
    )


async def _final_download(runtime: Runtime, meeting_id: int, fmt: str) -> web.Response:
    """The stored bytes of a frozen final referat (never rendered again)."""
    from storage.repositories.finals import finals_of

    async with runtime.db.session() as session:
        final = (await finals_of(session, meeting_id)).get(fmt)
    if final is None:
        return web.Response(status=404, text=LINK_GONE)
    headers = {
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Digest": f"sha-256={final.sha256}",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    else:
        headers["Content-Disposition"] = f'attachment; filename="{final.filename}"'
    return web.Response(
        body=final.content,
        content_type=final.mime_type.split(";")[0],
        charset=("utf-8" if final.mime_type.startswith("text/") else None),
        headers=headers,
    )


async def export_download(request: web.Request) -> web.Response:
    """A member's own data behind a signed, hour-long token (bot/exports.py)."""
    from bot.exports import serve_export

    return await serve_export(request.app[RUNTIME_KEY], request.match_info["token"])


_heap_collected = False


def settle_heap() -> None:
    """Move everything allocated while starting up (the imported modules of SQLAlchemy, Babel,
    Bolt, botbuilder, Alembic: ~175,000 long-lived objects) out of the garbage collector's
    reach. Otherwise every full collection walks them all again: under load, a 90 ms pause
    about twice a second, which was the p99 of the Slack path.

    The full collection first also sets the collector's measure of how much is long-lived, so
    that later full collections stay rare. Once per process is enough (tests start many
    servers in one)."""
    global _heap_collected
    if not _heap_collected:
        gc.collect()
        _heap_collected = True
    gc.freeze()


def release_heap() -> None:
    """Undo `settle_heap` when the server stops (tests start many in one process: what a stopped
    server leaves behind must be collectable again)."""
    gc.unfreeze()


def create_app(settings: Settings, runtime: Runtime | None = None) -> web.Application:
    runtime = runtime or Runtime(settings)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/drafts/{token}", draft_download)
    app.router.add_get("/exports/{token}", export_download)

    from bot.slack import adapter as slack
    from bot.teams import adapter as teams

    slack.mount(app, runtime)
    teams.mount(app, runtime)

    async def _startup(_app: web.Application) -> None:
        if runtime.db.is_sqlite and await runtime.db.is_empty():
            log.info("empty SQLite database: migrating")
            await runtime.db.migrate()
        await runtime.links.load_key(runtime.db)
        settle_heap()

    async def _cleanup(_app: web.Application) -> None:
        await runtime.close()
        release_heap()

    app.on_startup.append(_startup)
    app.on_cleanup.append(_cleanup)
    return app
