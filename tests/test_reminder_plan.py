"""Planning a reminder pass is pure: from a meeting and its loaded rows, with no database.

The meeting is on Tuesday 20 January 2026 with the deadline Tuesday 27 January 23:59 (Oslo); on
Monday 26 January 09:00 the 1-day reminder is due, and the 3-day one (Friday) was missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.events import ChannelTarget, DirectTarget
from handlers.reminders import PassOptions, kinds
from handlers.reminders.plan import MeetingRows, PlanEnv, Planner, direct_target, due_now
from storage.models import ChannelBinding, Group, Meeting, MeetingStatus, Platform, Role
from storage.repositories.reminders import IdentityRow, LogKey, MeetingGroup, MemberStatus

OSLO = ZoneInfo("Europe/Oslo")
MONDAY_0900 = datetime(2026, 1, 26, 9, 0, tzinfo=OSLO)
START = datetime(2026, 1, 20, 10, 0, tzinfo=OSLO)


def _meeting_group(*, bindings: tuple[ChannelBinding, ...]) -> MeetingGroup:
    group = Group(
        id=1,
        name="Næringsutvikling",
        organisation="",
        locale="nb",
        timezone="Europe/Oslo",
        deadline_days=7,
        deadline_time="23:59",
        reminder_offsets=[3, 1],
        reminder_time="09:00",
        reminders_enabled=True,
    )
    meeting = Meeting(
        id=10,
        group_id=1,
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        status=MeetingStatus.PLANNED,
        deadline_override=None,
    )
    return MeetingGroup(meeting, group, bindings, ())


def _member(member_id: int, first: str, *, role: Role = Role.MEMBER, **flags: bool) -> MemberStatus:
    return MemberStatus(
        member_id,
        first,
        "Eksempel",
        "Kommune",
        f"{first.lower()}@kommune.example",
        role,
        None,
        on_roster=True,
        submitted=flags.get("submitted", False),
        excused=flags.get("excused", False),
        muted=flags.get("muted", False),
        identities=[IdentityRow("slack", "T1", f"U{member_id}")],
    )


def test_plan_from_loaded_rows_alone() -> None:
    binding = ChannelBinding(id=5, group_id=1, platform=Platform.SLACK, workspace_id="T1", channel_id="C1")
    mg = _meeting_group(bindings=(binding,))
    due = due_now(mg, MONDAY_0900)
    assert due.deadline_due is not None and due.deadline_due.kind == kinds.deadline_kind(1)
    assert [r.kind for r in due.missed] == [kinds.deadline_kind(3)]
    assert due.kinds() >= {kinds.deadline_kind(1), kinds.summary_kind(1), kinds.deadline_kind(3)}
    members = [
        _member(1, "Kari"),  # missing: reminded
        _member(2, "Ola", submitted=True),
        _member(3, "Lise", excused=True),
        _member(4, "Nils", muted=True),
        _member(5, "Siri", role=Role.SECRETARIAT),
    ]
    planner = Planner(PlanEnv(available=lambda platform: platform == "slack"), MONDAY_0900, PassOptions())
    planner.meeting(due, MeetingRows(members, entries={}, given=set()))
    plan = planner.plan

    direct = [j for j in plan.jobs if j.direct is not None]
    channel = [j for j in plan.jobs if j.channel is not None]
    assert [(j.key, j.direct) for j in direct] == [
        (LogKey(10, 1, "deadline-1d"), DirectTarget("slack", "T1", "U1", "kari@kommune.example"))
    ]
    assert [(j.key, j.channel) for j in channel] == [
        (LogKey(10, -5, "channel-summary-1d"), ChannelTarget("slack", "T1", "C1"))
    ]
    # The 3-day reminder and summary that went unsent are skipped, replaced by the 1-day ones.
    assert sorted((s.key, s.replaced_by) for s in plan.skips) == [
        (LogKey(10, -5, "channel-summary-3d"), "channel-summary-1d"),
        (LogKey(10, 1, "deadline-3d"), "deadline-1d"),
    ]
    assert "Kari" in direct[0].reply().text
    assert plan.unreachable == [] and plan.deferred == []


def test_a_member_on_an_unconfigured_platform_is_unreachable_with_the_reason() -> None:
    member = _member(1, "Kari")
    target, problem = direct_target(lambda _platform: False, member, ())
    assert target == DirectTarget("slack", "T1", "U1", "kari@kommune.example")
    assert problem == "slack is not configured"
    no_one = MemberStatus(2, "Eva", "", "", None, Role.MEMBER, None, True, False, False, False)
    assert direct_target(lambda _platform: True, no_one, ()) == (None, "no e-mail on the roster")
