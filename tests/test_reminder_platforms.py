"""Platform after platform (issue 8): a reminder is tried on one platform at a time, a "no such
user" moves on to the next, and a member no platform knows is unreachable, with why, and no
failure. Against a real database (SQLite and PostgreSQL), with recording messengers for Slack and
Teams and the group bound to a Slack channel first and a Teams channel second.

Also what the secretariat sees of unreachable members: the `referent remind` table and exit
status, and the box in the draft (Markdown, HTML and Word).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select, update

from bot import cli
from bot.config import Settings
from bot.runtime import Runtime
from bot.scheduler import remind_command
from handlers.context import HandlerContext
from handlers.directory import DirectoryEntry, link_by_email
from handlers.ports import DeliveryError, NotFound
from handlers.referat import compile_draft
from handlers.reminders import PassOptions, run_reminder_pass
from storage.db import Database
from storage.models import (
    ChannelBinding,
    Group,
    Meeting,
    Member,
    Platform,
    PlatformIdentity,
    ReminderLog,
    ReminderState,
    Role,
)
from tests.referat_fixtures import build_meeting
from tests.test_referat import visible
from tests.test_reminder_pass import FRIDAY_0900, OSLO, Clock, Links, RecordingMessenger, Registry

START = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)


@dataclass
class World:
    db: Database
    clock: Clock
    slack: RecordingMessenger
    teams: RecordingMessenger
    ctx: HandlerContext
    ids: dict[str, int]

    async def log(self, name: str) -> ReminderLog:
        async with self.db.session() as s:
            return (
                await s.execute(select(ReminderLog).where(ReminderLog.member_id == self.ids[name]))
            ).scalar_one()


# name → (e-mail, Slack user id, Teams user id); all fictional
PEOPLE: dict[str, tuple[str | None, str | None, str | None]] = {
    "Kari": ("kari@kommune.example", "U1", None),  # on Slack
    "Ola": ("ola@kommune.example", None, "aad-ola"),  # on Teams (installed the app)
    "Eva": ("eva@kommune.example", None, None),  # known by e-mail only
    "Nils": (None, None, None),  # no e-mail, no identity
}


async def build(db: Database, *, bindings: tuple[Platform, ...] = (Platform.SLACK, Platform.TEAMS)) -> World:
    clock = Clock(FRIDAY_0900 + timedelta(minutes=2))
    slack, teams = RecordingMessenger("slack"), RecordingMessenger("teams")
    ctx = HandlerContext(db=db, clock=clock, messengers=Registry(slack, teams), links=Links())
    ids: dict[str, int] = {}
    async with db.write() as s:
        group = Group(name="Blandet", organisation="Eksempel region")
        s.add(group)
        await s.flush()
        for platform in bindings:
            workspace, channel = ("T1", "C1") if platform == Platform.SLACK else ("tenant-1", "19:kanal")
            s.add(
                ChannelBinding(
                    group_id=group.id, platform=platform, workspace_id=workspace, channel_id=channel
                )
            )
            await s.flush()
        s.add(Meeting(group_id=group.id, starts_at=START, ends_at=START + timedelta(hours=2)))
        for name, (email, slack_id, teams_id) in PEOPLE.items():
            member = Member(
                group_id=group.id, first_name=name, last_name="Eksempel", email=email, role=Role.MEMBER
            )
            s.add(member)
            await s.flush()
            ids[name] = member.id
            for platform, workspace, user_id in (
                (Platform.SLACK, "T1", slack_id),
                (Platform.TEAMS, "tenant-1", teams_id),
            ):
                if user_id:
                    s.add(
                        PlatformIdentity(
                            member_id=member.id, platform=platform, workspace_id=workspace, user_id=user_id
                        )
                    )
    return World(db, clock, slack, teams, ctx, ids)


def not_on(platform: str, *addresses: str) -> Callable[[str], None]:
    def hook(to: str) -> None:
        if to in addresses:
            raise NotFound(f"{platform}: no such user {to}")

    return hook


def directs(messenger: RecordingMessenger) -> list[str]:
    return [s.to for s in messenger.sent if not s.to.startswith(("C", "19:"))]


async def test_not_found_on_the_first_platform_moves_on_to_the_next(db: Database) -> None:
    world = await build(db)
    world.slack.hook = not_on("slack", "email:eva@kommune.example")
    report = await run_reminder_pass(world.ctx)

    # Eva: Slack first (the group's first channel), then Teams, where she is found.
    assert directs(world.slack) == ["U1"]
    assert sorted(directs(world.teams)) == ["aad-ola", "email:eva@kommune.example"]
    assert world.slack.calls >= 2  # the look-up on Slack happened
    eva = next(o for o in report.sent if o.reminder.member_id == world.ids["Eva"])
    assert (eva.reminder.platform, eva.reminder.address) == ("teams", "eva@kommune.example")
    assert report.failed == []
    assert (await world.log("Eva")).state == ReminderState.SENT
    # Ola is known on Teams: Teams is tried first, Slack never asked.
    assert "email:ola@kommune.example" not in [s.to for s in world.slack.sent]


async def test_the_order_of_the_bindings_decides_which_platform_is_asked_first(db: Database) -> None:
    world = await build(db, bindings=(Platform.TEAMS, Platform.SLACK))
    await run_reminder_pass(world.ctx)
    assert "email:eva@kommune.example" in directs(world.teams)
    assert "email:eva@kommune.example" not in directs(world.slack)


async def test_found_nowhere_is_unreachable_not_failed_and_looked_for_again_later(db: Database) -> None:
    world = await build(db)
    world.slack.hook = not_on("slack", "email:eva@kommune.example")
    world.teams.hook = not_on("teams", "email:eva@kommune.example")
    options = PassOptions(permanent_retry=timedelta(hours=6))
    report = await run_reminder_pass(world.ctx, options=options)

    assert report.failed == []
    unreachable = {o.reminder.member_id: o for o in report.unreachable}
    assert set(unreachable) == {world.ids["Eva"], world.ids["Nils"]}
    assert (unreachable[world.ids["Eva"]].code, unreachable[world.ids["Eva"]].about) == (
        "not_found",
        "slack,teams",
    )
    assert unreachable[world.ids["Nils"]].code == "no_email"
    eva = await world.log("Eva")
    assert eva.state == ReminderState.UNREACHABLE and eva.error == "not_found:slack,teams"
    assert eva.claimed_at.replace(tzinfo=UTC) == world.clock() + timedelta(hours=6)

    # The next pass sends nothing to her, and still lists her.
    world.clock.advance(minutes=10)
    sent_before = (len(world.slack.sent), len(world.teams.sent))
    again = await run_reminder_pass(world.ctx, options=options)
    assert again.planned == [] and again.sent == []
    assert (len(world.slack.sent), len(world.teams.sent)) == sent_before
    assert {o.reminder.member_id: o.code for o in again.unreachable} == {
        world.ids["Eva"]: "not_found",
        world.ids["Nils"]: "no_email",
    }

    # Six hours on she has joined Teams: she is looked for again, and reached.
    world.clock.advance(hours=6)
    world.teams.hook = None
    later = await run_reminder_pass(world.ctx, options=options)
    assert [o.reminder.member_id for o in later.sent] == [world.ids["Eva"]]
    eva = await world.log("Eva")
    assert eva.state == ReminderState.SENT and eva.attempts == 2


async def test_another_refusal_after_a_not_found_is_a_failure(db: Database) -> None:
    world = await build(db)
    world.slack.hook = not_on("slack", "email:eva@kommune.example")

    def down(to: str) -> None:
        if to == "email:eva@kommune.example":
            raise DeliveryError("teams is down")

    world.teams.hook = down
    report = await run_reminder_pass(world.ctx)
    assert [o.reminder.member_id for o in report.failed] == [world.ids["Eva"]]
    assert report.failed[0].detail == "teams is down"
    assert report.failed[0].reminder.platform == "teams"  # reported where it was refused
    assert (await world.log("Eva")).state == ReminderState.FAILED


async def test_a_refusal_that_is_not_not_found_does_not_move_on(db: Database) -> None:
    world = await build(db)

    def refuses(to: str) -> None:
        if to == "email:eva@kommune.example":
            raise DeliveryError("missing_scope", permanent=True)

    world.slack.hook = refuses
    report = await run_reminder_pass(world.ctx)
    assert "email:eva@kommune.example" not in directs(world.teams)
    assert [o.reminder.member_id for o in report.failed] == [world.ids["Eva"]]


def _runtime(db: Database, world: World) -> Runtime:
    runtime = Runtime(Settings.model_validate({"DATABASE_URL": "sqlite://"}), db=db)
    runtime.ctx.clock = world.clock
    runtime.ctx.messengers = world.ctx.messengers
    runtime.ctx.links = world.ctx.links
    return runtime


async def test_remind_exits_0_with_unreachable_members_and_says_why(db: Database) -> None:
    world = await build(db)
    world.slack.hook = not_on("slack", "email:eva@kommune.example")
    world.teams.hook = not_on("teams", "email:eva@kommune.example")
    console = Console(record=True, width=250)
    assert await remind_command(_runtime(db, world), None, False, console=console) == 0
    out = console.export_text()
    assert "kan ikke nås: ikke funnet i Slack eller Teams" in out
    assert "kan ikke nås: ingen e-post i deltakerlisten" in out
    assert "2 kan ikke nås" in out and "0 feilet" in out


async def test_remind_exits_1_only_when_sends_still_failed(db: Database) -> None:
    world = await build(db)

    def down(to: str) -> None:
        raise DeliveryError("rate limited", retry_after=600)

    world.teams.hook = down
    console = Console(record=True, width=250)
    assert await remind_command(_runtime(db, world), None, False, console=console) == 1
    assert "feilet" in console.export_text()


def test_remind_exits_2_on_a_configuration_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("DATABASE_URL", "not a database url")
    assert cli.main(["remind"]) == 2
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("MICROSOFT_APP_ID", "6f1c3b52-8d2e-4a7f-9b0c-1d2e3f4a5b6c")
    monkeypatch.delenv("MICROSOFT_APP_PASSWORD", raising=False)
    assert cli.main(["remind"]) == 2
    with pytest.raises(SystemExit) as usage:
        cli.main(["remind", "--now", "not a time"])
    assert usage.value.code == 2


# --- linking from a platform's member list -----------------------------------------------------


async def test_member_lists_link_roster_members_by_email_or_upn_within_the_tenant(db: Database) -> None:
    world = await build(db)
    async with db.write() as s:
        other = Group(name="Annen leietaker", organisation="")
        s.add(other)
        await s.flush()
        s.add(
            ChannelBinding(
                group_id=other.id, platform=Platform.TEAMS, workspace_id="tenant-2", channel_id="19:x"
            )
        )
        s.add(Member(group_id=other.id, first_name="Eva", last_name="Annen", email="eva@kommune.example"))
    entries = [
        DirectoryEntry("aad-eva", "Eva Eksempel", ("EVA@Kommune.example",)),
        DirectoryEntry("aad-kari", "Kari Eksempel", ("", "kari@kommune.example")),  # UPN only
        DirectoryEntry("aad-ola-2", "Ola Eksempel", ("ola@kommune.example",)),  # already linked
        DirectoryEntry("aad-stranger", "Fremmed", ("fremmed@annen.example",)),
    ]
    linked = await link_by_email(db, "teams", "tenant-1", entries)
    assert sorted(link.entry.user_id for link in linked) == ["aad-eva", "aad-kari"]
    async with db.session() as s:
        rows = (await s.execute(select(PlatformIdentity))).scalars().all()
    teams = {(r.member_id, r.workspace_id, r.user_id) for r in rows if r.platform == Platform.TEAMS}
    assert (world.ids["Eva"], "tenant-1", "aad-eva") in teams
    assert (world.ids["Kari"], "tenant-1", "aad-kari") in teams
    assert (world.ids["Ola"], "tenant-1", "aad-ola") in teams  # unchanged
    # The other tenant's group is not touched by this tenant's list.
    assert len([r for r in rows if r.workspace_id == "tenant-2"]) == 0
    # A second read links nothing new; a chat user already linked in the group is not linked twice.
    assert await link_by_email(db, "teams", "tenant-1", entries) == []
    assert (
        await link_by_email(db, "teams", "tenant-1", [DirectoryEntry("aad-eva", "Eva", ("nils@x.example",))])
        == []
    )


# --- the draft's box for the secretariat -------------------------------------------------------


async def test_the_draft_box_lists_unreachable_members_with_why(sqlite_db: Database) -> None:
    fx = await build_meeting(sqlite_db, members=12, missing=3, nothing=2, excused=1)
    not_found, no_email, reachable = fx.missing_ids[:3]
    async with sqlite_db.write() as s:
        await s.execute(update(Member).where(Member.id == no_email).values(email=None))
        s.add(
            ReminderLog(
                meeting_id=fx.meeting_id,
                member_id=not_found,
                kind="deadline-3d",
                state=ReminderState.UNREACHABLE,
                claimed_by="w",
                claimed_at=datetime(2026, 1, 23, 14, tzinfo=UTC),
                error="not_found:slack,teams",
            )
        )
    now = datetime(2026, 1, 22, 12, tzinfo=UTC)
    for locale, title, found, missing_email in (
        (
            "nb",
            "Kan ikke nås med påminnelser (2):",
            "ikke funnet i Slack eller Teams",
            "ingen e-post i deltakerlisten",
        ),
        (
            "en",
            "Cannot be reached by reminders (2):",
            "not found on Slack or Teams",
            "no e-mail on the roster",
        ),
    ):
        # (The PDF is for the archive: like a printed page, it never carries the box.)
        for fmt in ("md", "html", "docx"):
            draft = await compile_draft(sqlite_db, fx.meeting_id, fmt, now=now, locale=locale)  # type: ignore[arg-type]
            assert draft is not None
            text = visible(draft)
            box = text[text.index(title) :]
            assert f"{fx.names[not_found]} ({fx.organisations[not_found]}): {found}" in box, (fmt, box[:400])
            assert f"{fx.names[no_email]} ({fx.organisations[no_email]}): {missing_email}" in box, (
                fmt,
                box[:400],
            )
            assert f"{fx.names[reachable]} ({fx.organisations[reachable]}):" not in box

    # Reached after all (a later reminder went out): no longer listed.
    async with sqlite_db.write() as s:
        s.add(
            ReminderLog(
                meeting_id=fx.meeting_id,
                member_id=not_found,
                kind="deadline-1d",
                state=ReminderState.SENT,
                claimed_by="w",
                claimed_at=datetime(2026, 1, 26, 8, tzinfo=UTC),
            )
        )
    draft = await compile_draft(sqlite_db, fx.meeting_id, "md", now=now)
    assert draft is not None and draft.text is not None
    assert "Kan ikke nås med påminnelser (1):" in draft.text
    assert "ikke funnet i" not in draft.text
