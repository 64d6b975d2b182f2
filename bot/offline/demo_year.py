"""`referent demo`, part two: the year goes on, in small (written to `out/year/`).

The secretariat shares the invitation to the next meeting in its Slack DM with the bot
(demo_data/innkalling.txt, dated four weeks on), checks the preview and presses Import; before
that meeting the owner of an open follow-up is reminded; at it, the secretariat approves the first
meeting's referat, freezes its final version (stored with SHA-256) and closes a follow-up; the
next meeting's draft carries the one still open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.offline.demo import TZ

if TYPE_CHECKING:
    from bot.offline.demo import Story


async def play_year(
    story: Story, step: Callable[[str], None], first_id: int, out: Path, locale: str
) -> list[Path]:
    """The year in small: import the next invitation, remind, approve, freeze, carry on."""
    import hashlib
    import json

    from sqlalchemy import select

    from handlers.referat import compile_draft
    from handlers.reminders.kinds import FOLLOW_UPS_OPEN
    from handlers.reminders.runner import run_reminder_pass
    from storage.models import FollowUp, Meeting
    from storage.repositories.finals import finals_of

    runtime = story.server.runtime
    db = runtime.db
    rag = story.p("Ragnhild")
    assert rag.slack is not None
    async with db.session() as session:
        first = await session.get(Meeting, first_id)
        assert first is not None
        first_start = first.starts_at
    next_start = first_start + timedelta(days=28)

    step("Sekretariatet deler innkallingen til neste møte med Referent i Slack og importerer den")
    template = resources.files("bot.offline").joinpath("demo_data/innkalling.txt").read_text(encoding="utf-8")
    invitation = template.format(
        dato=f"{next_start.astimezone(TZ):%d.%m.%Y}", forrige=f"{first_start.astimezone(TZ):%d.%m.%Y}"
    )
    shared = story.slack_api.share_file(
        "innkalling-neste-mote.txt", invitation.encode("utf-8"), mimetype="text/plain"
    )
    dm = "D" + rag.slack.id[1:]
    request = story.slack.message(
        "mote importer", user=rag.slack.id, channel=dm, channel_type="im", files=[shared]
    )
    await story._slack(request, "mote importer (innkalling som fil)", rag)
    confirm = next(
        (
            element
            for params in reversed(story.slack_api.params("chat.postMessage"))
            if params.get("channel") == dm
            for block in (
                json.loads(params["blocks"])
                if isinstance(params.get("blocks"), str)
                else params.get("blocks") or []
            )
            for element in block.get("elements", [])
            if str(element.get("value", "")).startswith("mote importer bekreft ")
        ),
        None,
    )
    if confirm is None:
        story.errors.append("the import preview had no confirm button")
        return []
    click = story.slack.block_actions(
        user=rag.slack.id, channel=dm, action_id=confirm["action_id"], value=confirm["value"]
    )
    await story._slack(click, "trykket Importer", rag)
    async with db.session() as session:
        second = (
            await session.execute(select(Meeting).where(Meeting.starts_at == next_start))
        ).scalar_one_or_none()
        follow_ups = list((await session.execute(select(FollowUp).order_by(FollowUp.id))).scalars())
    if second is None:
        story.errors.append("the invitation did not create the next meeting")
        return []

    step("Før neste møte: påminnelse til den som har en åpen oppfølging")
    report = await run_reminder_pass(runtime.ctx, now=next_start - timedelta(minutes=30))
    reminded = [o.reminder.recipient for o in report.sent if o.reminder.kind == FOLLOW_UPS_OPEN]
    story.log.append(("Referent", "påminnelser", f"åpne oppfølginger: {', '.join(reminded) or 'ingen'}"))

    step("På neste møte: referatet godkjennes og låses, en oppfølging meldes ferdig")
    clock = runtime.ctx.clock
    at_meeting = next_start + timedelta(minutes=5)
    runtime.ctx.clock = lambda: at_meeting
    written: list[Path] = []
    try:
        await story.slash(rag, "/mote", "godkjenn-referat")
        await story.slash(rag, "/referat", f"endelig {first_start.astimezone(TZ):%d.%m.%Y}")
        invite = next((f for f in follow_ups if "Innovasjon Norge" in f.text), None)
        if invite is not None:
            await story.slash(rag, "/oppfolging", f"ferdig {invite.id}")
        out.mkdir(parents=True, exist_ok=True)
        async with db.session() as session:
            finals = await finals_of(session, first_id)
        if set(finals) != {"md", "html", "docx", "pdf"}:
            story.errors.append("the first referat was not frozen")
        for fmt, final in sorted(finals.items()):
            stem, _, suffix = final.filename.rpartition(".")
            path = out / f"{stem}-endelig.{suffix}"
            path.write_bytes(final.content)
            written.append(path)
            if hashlib.sha256(final.content).hexdigest() != final.sha256:
                story.errors.append(f"the stored {fmt} final does not match its SHA-256")
            story.log.append(("Referent", "endelig referat", f"{path.name}: SHA-256 {final.sha256[:16]}…"))
        for fmt in ("md", "html", "docx"):
            draft = await compile_draft(db, second.id, fmt, locale=locale, now=at_meeting)
            assert draft is not None
            path = out / draft.filename
            path.write_bytes(draft.content)
            written.append(path)
    finally:
        runtime.ctx.clock = clock
    return written
