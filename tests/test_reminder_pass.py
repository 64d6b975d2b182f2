"""The reminder pass against a real database (SQLite and PostgreSQL) with a controllable clock and
a recording messenger standing in for Slack and Teams.

The group: a meeting on Tuesday 20 January 2026, deadline Tuesday 27 January 23:59 (Oslo), so the
reminders are due Friday 23 January 09:00 ("3 days before" falls on a Saturday) and Monday
26 January 09:00. All people are fictional.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import delete, select

from bot.config import Settings
from bot.runtime import Runtime
from bot.scheduler import JOB_ID, RETENTION_JOB_ID, remind_command, reminder_job, start_scheduler
from handlers.context import HandlerContext
from handlers.events import ChannelTarget, DirectTarget, Reply
from handlers.ports import DeliveryError, Messenger
from handlers.reminders import PassOptions, messages, run_reminder_pass
from storage.db import Database
from storage.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    ChannelBinding,
    ConversationReference,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Platform,
    PlatformIdentity,
    ReminderLog,
    ReminderMute,
    ReminderState,
    Role,
    Submission,
    SubmissionKind,
)

OSLO = ZoneInfo("Europe/Oslo")
FRIDAY_0900 = datetime(2026, 1, 23, 9, 0, tzinfo=OSLO)
MONDAY_0900 = datetime(2026, 1, 26, 9, 0, tzinfo=OSLO)
DEADLINE = datetime(2026, 1, 27, 23, 59, tzinfo=OSLO)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


class Crash(BaseException):
    """Stands for the process dying mid-pass (not an error the pass may handle)."""


@dataclass
class Sent:
    platform: str
    to: str  # user id, e-mail or channel id
    reply: Reply
    target: DirectTarget | ChannelTarget


Hook = Callable[[str], None]  # called with the address before "sending"; may raise


@dataclass
class RecordingMessenger:
    """A fake platform: records what it was asked to send; `hook` can refuse a send."""

    platform: str
    sent: list[Sent] = field(default_factory=list)
    hook: Hook | None = None
    calls: int = 0

    async def post(self, target: ChannelTarget, reply: Reply, *, thread_ref: str | None = None) -> str:
        self.calls += 1
        if self.hook:
            self.hook(target.channel_id)
        self.sent.append(Sent(self.platform, target.channel_id, reply, target))
        return f"ts-{len(self.sent)}"

    async def update(self, target: ChannelTarget, message_ref: str, reply: Reply) -> None:
        raise AssertionError("reminders never update messages")

    async def send_direct(self, target: DirectTarget, reply: Reply) -> str:
        self.calls += 1
        to = target.user_id or f"email:{target.email}"
        if self.hook:
            self.hook(to)
        await asyncio.sleep(0)
        self.sent.append(Sent(self.platform, to, reply, target))
        return f"ts-{len(self.sent)}"

    def to(self, address: str) -> list[Sent]:
        return [s for s in self.sent if s.to == address]


class Registry:
    def __init__(self, *messengers: RecordingMessenger) -> None:
        self.by_platform = {m.platform: m for m in messengers}

    def for_platform(self, platform: str) -> Messenger | None:
        return self.by_platform.get(platform)


class Links:
    def draft_url(self, meeting: Meeting, fmt: str, locale: str) -> str | None:
        return f"https://referent.example/drafts/{meeting.id}.{fmt}?l={locale}"

    def export_url(self, members: object, fmt: str, locale: str) -> str | None:
        return None


@dataclass
class World:
    db: Database
    clock: Clock
    slack: RecordingMessenger
    teams: RecordingMessenger
    ctx: HandlerContext
    group_id: int
    meeting_id: int
    binding_id: int
    ids: dict[str, int]

    async def run(self, **kw: object) -> object:
        return await run_reminder_pass(self.ctx, **kw)  # type: ignore[arg-type]

    async def log(self) -> list[ReminderLog]:
        async with self.db.session() as s:
            return list((await s.execute(select(ReminderLog).order_by(ReminderLog.id))).scalars())


# name, Slack user id (None: never seen in chat), role, locale, situation
PEOPLE = [
    ("Kari Nordmann", "U1", Role.MEMBER, None, "missing"),
    ("Ola Fjellheim", "U2", Role.MEMBER, None, "round"),
    ("Per Dalsbø", "U3", Role.MEMBER, None, "nothing"),
    ("Lise Strand", "U4", Role.MEMBER, None, "forfall"),
    ("Nils Haug", "U5", Role.MEMBER, None, "muted"),
    ("Siri Berg", "U6", Role.SECRETARIAT, None, "missing"),
    ("Tone Vik", "U7", Role.MEMBER, None, "input_only"),
    ("Eva Lund", None, Role.MEMBER, None, "missing"),
    ("Astrid Moe", "U8", Role.CHAIR, "en", "missing"),
]


async def build_world(db: Database, *, now: datetime = FRIDAY_0900, reminders_enabled: bool = True) -> World:
    clock = Clock(now)
    slack, teams = RecordingMessenger("slack"), RecordingMessenger("teams")
    ctx = HandlerContext(db=db, clock=clock, messengers=Registry(slack, teams), links=Links())
    ids: dict[str, int] = {}
    async with db.write() as s:
        group = Group(
            name="Næringsutvikling", organisation="Eksempel region", reminders_enabled=reminders_enabled
        )
        s.add(group)
        await s.flush()
        binding = ChannelBinding(
            group_id=group.id, platform=Platform.SLACK, workspace_id="T1", channel_id="C1"
        )
        s.add(binding)
        start = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)
        meeting = Meeting(group_id=group.id, starts_at=start, ends_at=start + timedelta(hours=2))
        s.add(meeting)
        await s.flush()
        item = AgendaItem(meeting_id=meeting.id, number=3, position=3.0, title="Budsjett 2026")
        s.add(item)
        await s.flush()
        for name, user_id, role, locale, situation in PEOPLE:
            first, last = name.split(" ", 1)
            member = Member(
                group_id=group.id,
                first_name=first,
                last_name=last,
                organisation="Eksempel kommune",
                email=f"{first.lower()}@kommune.example",
                role=role,
                locale=locale,
            )
            s.add(member)
            await s.flush()
            ids[first] = member.id
            if user_id:
                s.add(
                    PlatformIdentity(
                        member_id=member.id, platform=Platform.SLACK, workspace_id="T1", user_id=user_id
                    )
                )
            if situation in ("round", "nothing", "input_only"):
                kind = {
                    "round": SubmissionKind.ROUND,
                    "nothing": SubmissionKind.NOTHING,
                    "input_only": SubmissionKind.INPUT,
                }[situation]
                s.add(
                    Submission(
                        meeting_id=meeting.id,
                        member_id=member.id,
                        kind=kind,
                        agenda_item_id=item.id if kind == SubmissionKind.INPUT else None,
                        text="Tekst",
                        source_platform=Platform.SLACK,
                    )
                )
            if situation == "forfall":
                s.add(Attendance(meeting_id=meeting.id, member_id=member.id, status=AttendanceStatus.EXCUSED))
            if situation == "muted":
                s.add(ReminderMute(meeting_id=meeting.id, member_id=member.id))
        # Someone who joined by posting is not on the roster and is not reminded.
        s.add(Member(group_id=group.id, first_name="Jon", last_name="Gjest", on_roster=False))
        await s.flush()
        return World(db, clock, slack, teams, ctx, group.id, meeting.id, binding.id, ids)


EXPECTED_DM = {"U1", "U7", "U8", "email:eva@kommune.example"}


async def test_nothing_before_nine_on_friday(db: Database) -> None:
    world = await build_world(db, now=FRIDAY_0900 - timedelta(minutes=1))
    report = await run_reminder_pass(world.ctx)
    assert world.slack.sent == [] and report.planned == []
    assert await world.log() == []


async def test_reminds_exactly_those_who_have_not_posted(db: Database) -> None:
    world = await build_world(db, now=FRIDAY_0900 + timedelta(minutes=3))
    report = await run_reminder_pass(world.ctx)

    direct = {s.to for s in world.slack.sent if isinstance(s.target, DirectTarget)}
    # Not: Ola (posted), Per (runde ingen), Lise (forfall), Nils (muted), Siri (secretariat),
    # Jon (not on the roster). Tone posted only an innspill, so she is reminded.
    assert direct == EXPECTED_DM
    summary = [s for s in world.slack.sent if isinstance(s.target, ChannelTarget)]
    assert len(summary) == 1 and summary[0].to == "C1"
    assert "2 av 7 har levert" in summary[0].reply.text
    assert len(report.sent) == 5 and report.failed == [] and report.skipped == []

    rows = await world.log()
    assert {(r.member_id, r.kind, r.state) for r in rows} == {
        *((world.ids[n], "deadline-3d", ReminderState.SENT) for n in ("Kari", "Tone", "Eva", "Astrid")),
        (-world.binding_id, "channel-summary-3d", ReminderState.SENT),
    }
    assert all(r.sent_at == world.clock() and r.attempts == 1 for r in rows)


async def test_messages_are_in_the_members_language(db: Database) -> None:
    world = await build_world(db, now=FRIDAY_0900)
    await run_reminder_pass(world.ctx)
    kari = world.slack.to("U1")[0].reply
    assert "Hei, Kari!" in kari.text
    assert "tirsdag 27. januar kl. 23.59" in kari.text
    assert "`runde ingen`" in kari.text
    assert [b.value for b in kari.buttons] == ["runde", "runde ingen", "paminnelser av"]
    assert kari.ephemeral is False
    astrid = world.slack.to("U8")[0].reply
    assert "Hi, Astrid!" in astrid.text and "Tuesday 27 January, 23:59" in astrid.text
    assert astrid.buttons[0].label == "Write my update now"


async def test_member_never_seen_in_chat_is_reached_by_email(db: Database) -> None:
    world = await build_world(db)
    await run_reminder_pass(world.ctx)
    (eva,) = world.slack.to("email:eva@kommune.example")
    assert isinstance(eva.target, DirectTarget)
    assert eva.target.user_id == "" and eva.target.workspace_id == "T1" and eva.target.platform == "slack"


async def test_running_twice_sends_nothing_more(db: Database) -> None:
    world = await build_world(db)
    await run_reminder_pass(world.ctx)
    world.clock.advance(minutes=5)
    second = await run_reminder_pass(world.ctx)
    assert len(world.slack.sent) == 5
    assert second.planned == [] and second.sent == []


async def test_two_passes_at_once_send_each_reminder_once(db: Database) -> None:
    world = await build_world(db)
    a, b = await asyncio.gather(
        run_reminder_pass(world.ctx, worker_id="replica-a"),
        run_reminder_pass(world.ctx, worker_id="replica-b"),
    )
    addresses = [s.to for s in world.slack.sent]
    assert sorted(addresses) == sorted([*EXPECTED_DM, "C1"])
    assert len(a.sent) + len(b.sent) == 5


async def test_second_reminder_only_to_those_still_missing(db: Database) -> None:
    world = await build_world(db)
    await run_reminder_pass(world.ctx)
    async with db.write() as s:  # Kari posts over the weekend
        s.add(
            Submission(
                meeting_id=world.meeting_id,
                member_id=world.ids["Kari"],
                kind=SubmissionKind.ROUND,
                text="Vi har startet arbeidet med ny plan.",
                source_platform=Platform.SLACK,
            )
        )
    world.clock.set(MONDAY_0900 + timedelta(minutes=1))
    report = await run_reminder_pass(world.ctx)
    assert {o.reminder.kind for o in report.sent} == {"deadline-1d", "channel-summary-1d"}
    assert len(world.slack.to("U1")) == 1  # Friday's only
    assert len(world.slack.to("U7")) == 2
    summary = [s for s in world.slack.sent if s.to == "C1"]
    assert "3 av 7 har levert" in summary[-1].reply.text


async def test_reminder_missed_while_down_is_skipped(db: Database) -> None:
    # The bot was down on Friday; on Monday at 10:00 each member gets one reminder, not two.
    world = await build_world(db, now=MONDAY_0900 + timedelta(hours=1))
    report = await run_reminder_pass(world.ctx)
    assert sorted(s.to for s in world.slack.sent) == sorted([*EXPECTED_DM, "C1"])
    assert {o.reminder.kind for o in report.sent} == {"deadline-1d", "channel-summary-1d"}
    rows = {(r.member_id, r.kind): r.state for r in await world.log()}
    for name in ("Kari", "Tone", "Eva", "Astrid"):
        assert rows[(world.ids[name], "deadline-3d")] == ReminderState.SKIPPED
        assert rows[(world.ids[name], "deadline-1d")] == ReminderState.SENT
    assert rows[(-world.binding_id, "channel-summary-3d")] == ReminderState.SKIPPED
    assert len(report.skipped) == 5
    world.clock.advance(minutes=5)
    await run_reminder_pass(world.ctx)
    assert len(world.slack.sent) == 5


async def test_pass_killed_between_claim_and_send_is_completed_after_the_timeout(db: Database) -> None:
    world = await build_world(db)

    def die(_: str) -> None:
        raise Crash

    world.slack.hook = die
    with pytest.raises(Crash):
        await run_reminder_pass(world.ctx, worker_id="dying")
    assert world.slack.sent == []
    claimed = [r for r in await world.log() if r.state == ReminderState.CLAIMED]
    assert claimed and all(r.claimed_by == "dying" for r in claimed)

    assert len(claimed) == 5

    world.slack.hook = None
    world.clock.advance(minutes=5)  # within the claim timeout: the claims may still be live
    report = await run_reminder_pass(world.ctx, worker_id="next")
    assert report.planned == [] and world.slack.sent == []

    world.clock.advance(minutes=6)  # 11 minutes: the dead claims are taken over
    report = await run_reminder_pass(world.ctx, worker_id="next")
    assert sorted(s.to for s in world.slack.sent) == sorted([*EXPECTED_DM, "C1"])
    assert all(r.state == ReminderState.SENT for r in await world.log())
    assert {o.attempts for o in report.sent} == {2}

    world.clock.advance(minutes=30)
    await run_reminder_pass(world.ctx)
    assert len(world.slack.sent) == 5


async def test_long_retry_after_is_retried_in_a_later_pass(db: Database) -> None:
    # The platform is rate limited for 10 minutes: nothing is lost and nothing is retried
    # before the pause is over, in this pass or the next.
    world = await build_world(db)

    def rate_limited(_: str) -> None:
        raise DeliveryError("chat.postMessage: rate limited", retry_after=600)

    world.slack.hook = rate_limited
    report = await run_reminder_pass(world.ctx)
    assert report.sent == [] and len(report.failed) == 5
    assert world.slack.calls == 1  # the first 429 paused the platform for every other sender
    rows = await world.log()
    assert all(r.state == ReminderState.FAILED and r.attempts == 1 for r in rows)
    assert all(r.claimed_at >= world.clock() + timedelta(seconds=599) for r in rows)  # not before Retry-After

    world.slack.hook = None
    world.clock.advance(minutes=5)  # Retry-After (10 minutes) not over: not yet
    assert (await run_reminder_pass(world.ctx)).planned == []
    world.clock.advance(minutes=6)
    report = await run_reminder_pass(world.ctx)
    assert sorted(s.to for s in world.slack.sent) == sorted([*EXPECTED_DM, "C1"])
    assert {o.attempts for o in report.sent} == {2}


async def test_short_retry_after_is_waited_out_within_the_pass(db: Database) -> None:
    world = await build_world(db)
    refused: list[str] = []

    def once(to: str) -> None:
        if to == "U7" and not refused:
            refused.append(to)
            raise DeliveryError("rate limited", retry_after=0.05)

    world.slack.hook = once
    report = await run_reminder_pass(world.ctx)
    assert refused == ["U7"]
    assert len(world.slack.to("U7")) == 1 and report.failed == []
    assert report.rate_limit_pauses >= 1
    assert all(r.state == ReminderState.SENT for r in await world.log())


async def test_permanent_failure_waits_hours_and_attempts_are_counted(db: Database) -> None:
    world = await build_world(db)

    def no_such_user(to: str) -> None:
        if to.startswith("email:eva"):
            raise DeliveryError("users.lookupByEmail: users_not_found", permanent=True)

    world.slack.hook = no_such_user
    opts = PassOptions(max_attempts=2)
    await run_reminder_pass(world.ctx, options=opts)
    eva = next(r for r in await world.log() if r.member_id == world.ids["Eva"])
    assert eva.state == ReminderState.FAILED and "users_not_found" in (eva.error or "")
    world.clock.advance(minutes=30)
    assert (await run_reminder_pass(world.ctx, options=opts)).planned == []
    world.clock.advance(hours=6)
    assert len((await run_reminder_pass(world.ctx, options=opts)).failed) == 1
    world.clock.advance(hours=7)  # two attempts used: given up, stays failed in the log
    assert (await run_reminder_pass(world.ctx, options=opts)).planned == []
    eva = next(r for r in await world.log() if r.member_id == world.ids["Eva"])
    assert eva.state == ReminderState.FAILED and eva.attempts == 2


async def test_group_with_reminders_off_gets_none(db: Database) -> None:
    world = await build_world(db, reminders_enabled=False)
    report = await run_reminder_pass(world.ctx)
    assert world.slack.sent == [] and report.planned == []


async def test_closed_meeting_gets_no_reminders(db: Database) -> None:
    world = await build_world(db)
    async with db.write() as s:
        meeting = await s.get(Meeting, world.meeting_id)
        assert meeting is not None
        meeting.status = MeetingStatus.CLOSED
    await run_reminder_pass(world.ctx)
    assert world.slack.sent == []


async def test_dry_run_plans_but_claims_and_sends_nothing(db: Database) -> None:
    world = await build_world(db, now=MONDAY_0900 + timedelta(hours=1))
    report = await run_reminder_pass(world.ctx, dry_run=True)
    assert report.dry_run
    assert {p.kind for p in report.planned} == {"deadline-1d", "channel-summary-1d"}
    assert len(report.planned) == 5 and len(report.skipped) == 5
    assert world.slack.sent == [] and await world.log() == []


async def test_unconfigured_platform_is_reported_not_claimed(db: Database) -> None:
    world = await build_world(db)
    world.ctx.messengers = Registry(world.teams)  # Slack is off
    report = await run_reminder_pass(world.ctx)
    assert report.sent == [] and len(report.unreachable) == 5
    assert "slack is not configured" in report.unreachable[0].detail
    assert await world.log() == []


async def test_teams_member_is_reached_through_the_stored_reference(db: Database) -> None:
    world = await build_world(db)
    reference = {
        "serviceUrl": "https://smba.example/emea/",
        "conversation": {"id": "a:1x", "conversationType": "personal"},
    }
    async with db.write() as s:
        s.add(
            ChannelBinding(
                group_id=world.group_id, platform=Platform.TEAMS, workspace_id="tenant-1", channel_id="19:x"
            )
        )
        s.add(
            PlatformIdentity(
                member_id=world.ids["Lise"], platform=Platform.TEAMS, workspace_id="tenant-1", user_id="aad-1"
            )
        )
        # Lise now uses Teams only, and no longer has forfall.
        await s.execute(delete(Attendance).where(Attendance.member_id == world.ids["Lise"]))
        await s.execute(
            delete(PlatformIdentity).where(
                PlatformIdentity.member_id == world.ids["Lise"], PlatformIdentity.platform == Platform.SLACK
            )
        )
        s.add(
            ConversationReference(
                platform=Platform.TEAMS, workspace_id="tenant-1", key="user:aad-1", reference=reference
            )
        )
    await run_reminder_pass(world.ctx)
    (lise,) = world.teams.to("aad-1")
    assert isinstance(lise.target, DirectTarget)
    # Named by identity only: the Teams messenger resolves it to the stored reference.
    assert (lise.target.platform, lise.target.workspace_id, lise.target.user_id) == (
        "teams",
        "tenant-1",
        "aad-1",
    )
    assert not hasattr(lise.target, "reference")
    assert len([s for s in world.teams.sent if s.to == "19:x"]) == 1  # the summary in Teams too


async def test_secretariat_gets_who_is_missing_when_the_deadline_passes(db: Database) -> None:
    world = await build_world(db, now=DEADLINE + timedelta(minutes=2))
    report = await run_reminder_pass(world.ctx)
    assert [o.reminder.kind for o in report.sent] == ["secretariat-closed"]
    (notice,) = world.slack.to("U6")
    text = notice.reply.text
    for name in ("Kari Nordmann", "Tone Vik", "Eva Lund", "Astrid Moe", "Nils Haug"):
        assert name in text
    for name in ("Ola", "Per Dalsbø", "Jon"):
        assert name not in text
    assert "Forfall: Lise Strand" in text
    assert "2 av 7 har levert" in text
    assert f"https://referent.example/drafts/{world.meeting_id}.html?l=nb" in text
    world.clock.advance(minutes=5)
    await run_reminder_pass(world.ctx)
    assert len(world.slack.sent) == 1


async def test_without_a_secretariat_the_chair_gets_the_notice(db: Database) -> None:
    world = await build_world(db, now=DEADLINE + timedelta(minutes=2))
    async with db.write() as s:
        siri = await s.get(Member, world.ids["Siri"])
        assert siri is not None
        siri.role = Role.MEMBER
    await run_reminder_pass(world.ctx)
    assert [s.to for s in world.slack.sent] == ["U8"]  # Astrid, the chair, in English
    text = world.slack.to("U8")[0].reply.text
    assert "Missing:" in text and "Siri Berg" in text and "?l=en" in text


async def test_no_notice_for_a_deadline_long_past(db: Database) -> None:
    world = await build_world(db, now=DEADLINE + timedelta(days=20))
    await run_reminder_pass(world.ctx)
    assert world.slack.sent == []


async def test_input_reminder_before_the_meeting(db: Database) -> None:
    world = await build_world(db, now=datetime(2026, 1, 19, 9, 30, tzinfo=OSLO))  # Monday before
    async with db.write() as s:
        item = (await s.execute(select(AgendaItem))).scalar_one()
        item.wants_input = True
    report = await run_reminder_pass(world.ctx)
    assert {o.reminder.kind for o in report.sent} == {"input-before-meeting"}
    # Tone has given input to the item; Lise has forfall, Nils muted, Siri is secretariat.
    assert {s.to for s in world.slack.sent} == {"U1", "U2", "U3", "U8", "email:eva@kommune.example"}
    assert "Sak 3: Budsjett 2026" in world.slack.to("U1")[0].reply.text


async def test_at_most_one_message_per_member_per_pass(db: Database) -> None:
    world = await build_world(db)
    async with db.write() as s:  # a second meeting of the same group, collecting at the same time
        start = datetime(2026, 1, 20, 13, 0, tzinfo=OSLO)
        s.add(Meeting(group_id=world.group_id, starts_at=start, ends_at=start + timedelta(hours=1)))
    first = await run_reminder_pass(world.ctx)
    assert len(first.deferred) == 4
    assert len(world.slack.to("U1")) == 1
    world.clock.advance(minutes=5)
    await run_reminder_pass(world.ctx)
    assert len(world.slack.to("U1")) == 2
    meetings = {s.reply.buttons[0].action_id for s in world.slack.to("U1")}
    assert len(meetings) == 2  # one reminder for each meeting, in two passes


# --- `referent remind` and the scheduler ------------------------------------------------------


def _runtime(db: Database, world: World | None = None, interval: int = 300) -> Runtime:
    settings = Settings.model_validate({"DATABASE_URL": "sqlite://", "REFERENT_REMINDER_INTERVAL": interval})
    runtime = Runtime(settings, db=db)
    if world is not None:
        runtime.ctx.clock = world.clock
        runtime.ctx.messengers = world.ctx.messengers
        runtime.ctx.links = world.ctx.links
    return runtime


async def test_remind_dry_run_prints_who_would_get_what(db: Database) -> None:
    world = await build_world(db, now=MONDAY_0900 + timedelta(hours=1))
    console = Console(record=True, width=220)
    code = await remind_command(_runtime(db, world), None, True, console=console)
    out = console.export_text()
    assert code == 0
    assert "prøvekjøring" in out and "Kari Nordmann" in out and "deadline-1d" in out
    assert "#C1" in out and "eva@kommune.example" in out and "hoppet over" in out
    assert world.slack.sent == [] and await world.log() == []


async def test_remind_sends_and_a_second_run_has_nothing_to_do(db: Database) -> None:
    world = await build_world(db)
    runtime = _runtime(db, world)
    console = Console(record=True, width=220)
    assert await remind_command(runtime, FRIDAY_0900 + timedelta(minutes=1), False, console=console) == 0
    assert "5 sendt" in console.export_text()
    again = Console(record=True, width=220)
    assert await remind_command(runtime, FRIDAY_0900 + timedelta(minutes=2), False, console=again) == 0
    assert "Ingen påminnelser å sende" in again.export_text()
    assert len(world.slack.sent) == 5


async def test_remind_exits_1_when_sends_failed(db: Database) -> None:
    world = await build_world(db)

    def down(_: str) -> None:
        raise DeliveryError("slack is down")

    world.slack.hook = down
    console = Console(record=True, width=220)
    assert await remind_command(_runtime(db, world), None, False, console=console) == 1
    assert "feilet: slack is down" in console.export_text()


async def test_scheduler_runs_one_stable_job(sqlite_db: Database) -> None:
    runtime = _runtime(sqlite_db, interval=120)
    scheduler = start_scheduler(runtime)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert set(jobs) == {JOB_ID, RETENTION_JOB_ID}
        job = jobs[JOB_ID]
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval == timedelta(seconds=120)
        start_again = scheduler.add_job(
            reminder_job, "interval", seconds=60, id=JOB_ID, replace_existing=True, kwargs=job.kwargs
        )
        assert start_again.id == JOB_ID and len(scheduler.get_jobs()) == 2
    finally:
        scheduler.shutdown(wait=False)


# --- message content (no database) -------------------------------------------------------------


def _facts(group: str = "Næringsutvikling") -> messages.MeetingFacts:
    return messages.MeetingFacts(
        7, group, "Europe/Oslo", datetime(2026, 1, 20, 10, tzinfo=OSLO), DEADLINE, FRIDAY_0900.astimezone(UTC)
    )


def test_both_catalogs_have_the_same_messages() -> None:
    assert messages.catalog_keys("nb") == messages.catalog_keys("en")


def test_names_and_titles_are_inert() -> None:
    reply = messages.deadline_reminder(_facts("<!channel> *Gruppe*"), "<@U123>", "nb")
    assert "<!channel>" not in reply.text and "<@U123>" not in reply.text
    assert r"\<\!channel\>" in reply.text and r"\*Gruppe\*" in reply.text


def test_a_long_missing_list_is_cut_short() -> None:
    missing = [f"Deltaker {i:03d}" for i in range(100)]
    reply = messages.secretariat_closed(
        _facts(), delivered=0, expected=100, missing=missing, excused=[], draft_url=None, locale="nb"
    )
    assert "Deltaker 039" in reply.text and "Deltaker 040" not in reply.text
    assert "… og 60 til" in reply.text
