"""`/exports/{token}`: a member's own data (`data eksport`) behind a signed link that lives an hour.

The token names the member rows and their data generation (bot/links.py); `data slett` raises the
generation, so a link handed out before a deletion shows nothing after it. The data is read at
download time, so the link never carries personal data itself.
"""

from __future__ import annotations

from aiohttp import web

from bot.links import export_is_current
from bot.runtime import Runtime
from storage.models import Member

GONE = "Lenken er ugyldig eller utløpt. / The link is invalid or expired."


async def serve_export(runtime: Runtime, token_text: str) -> web.Response:
    """The export a token names, or a plain 404 (never a hint at why)."""
    from handlers.commands.mydata import export_files, export_payload

    token = runtime.links.read_export(token_text)
    if token is None:
        return web.Response(status=404, text=GONE)
    async with runtime.db.session() as session:
        members = [await session.get(Member, member_id) for member_id, _ in token.members]
        if not export_is_current(token, members):
            return web.Response(status=404, text=GONE)
        payload = await export_payload(session, [m for m in members if m is not None], runtime.ctx.now())
    data, summary = export_files(payload, token.locale)
    chosen = data if token.fmt == "json" else summary
    headers = {
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Referrer-Policy": "no-referrer",
    }
    if token.fmt == "json":
        headers["Content-Disposition"] = f'attachment; filename="{chosen.filename}"'
    return web.Response(
        body=chosen.content,
        content_type=chosen.mime_type.split(";")[0],
        charset="utf-8",
        headers=headers,
    )
