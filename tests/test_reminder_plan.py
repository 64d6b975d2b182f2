"""Planning a reminder pass is pure: from a meeting and its loaded rows, with no database.

The meeting is on Tuesday 20 January 2026 with the deadline Tuesday 27 January 23:59 (Oslo); on
Monday 26 January 09:00 the 1-day reminder is due, and the 3-day one (Friday) was missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.events import ChannelTarget, DirectTarget
from handlers.reminders import PassOptions, kinds
from handlers.reminders.plan import (
    MeetingRows,
    PlanEnv,
    Planner,
    direct_route,
    direct_target,
    due_now,
    unlinked_platforms,
)
from storage.models import ChannelBinding, Group, Meeting, MeetingStatus, Platform, ReminderState, Role
from storage.repositories.reminders import IdentityRow, LogEntry, LogKey, MeetingGroup, MemberStatus

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


# --- platform after platform --------------------------------------------------------------------

SLACK = ChannelBinding(id=5, group_id=1, platform=Platform.SLACK, workspace_id="T1", channel_id="C1")
TEAMS = ChannelBinding(id=6, group_id=1, platform=Platform.TEAMS, workspace_id="tenant-1", channel_id="19:c")


def _person(member_id: int, email: str | None, *identities: IdentityRow) -> MemberStatus:
    return MemberStatus(
        member_id,
        "Kari",
        "Eksempel",
        "Kommune",
        email,
        Role.MEMBER,
        None,
        True,
        False,
        False,
        False,
        identities=list(identities),
    )


def _everywhere(_platform: str) -> bool:
    return True


def test_an_email_only_member_is_looked_up_on_each_platform_in_the_order_of_the_bindings() -> None:
    kari = _person(1, "kari@kommune.example")
    route = direct_route(_everywhere, kari, (SLACK, TEAMS))
    assert route.targets == (
        DirectTarget("slack", "T1", "", "kari@kommune.example"),
        DirectTarget("teams", "tenant-1", "", "kari@kommune.example"),
    )
    assert route.problem == ""
    # A group that lives on Teams first asks Teams first.
    assert [t.platform for t in direct_route(_everywhere, kari, (TEAMS, SLACK)).targets] == ["teams", "slack"]


def test_a_known_identity_comes_first_then_the_other_platforms_by_email() -> None:
    kari = _person(1, "kari@kommune.example", IdentityRow("teams", "tenant-1", "aad-kari"))
    route = direct_route(_everywhere, kari, (SLACK, TEAMS))
    assert route.targets == (
        DirectTarget("teams", "tenant-1", "aad-kari", "kari@kommune.example"),
        DirectTarget("slack", "T1", "", "kari@kommune.example"),
    )
    # Known on both: both identities, in the order of the bindings, and no e-mail look-up.
    both = _person(
        2,
        "ola@kommune.example",
        IdentityRow("teams", "tenant-1", "aad-ola"),
        IdentityRow("slack", "T1", "U2"),
    )
    assert [(t.platform, t.user_id) for t in direct_route(_everywhere, both, (SLACK, TEAMS)).targets] == [
        ("slack", "U2"),
        ("teams", "aad-ola"),
    ]


def test_an_identity_elsewhere_is_tried_after_those_where_the_group_lives() -> None:
    kari = _person(1, "kari@kommune.example", IdentityRow("slack", "T-other", "U9"))
    route = direct_route(_everywhere, kari, (SLACK,))
    assert [(t.workspace_id, t.user_id) for t in route.targets] == [("T-other", "U9"), ("T1", "")]


def test_platforms_without_a_messenger_are_passed_over() -> None:
    kari = _person(1, "kari@kommune.example")
    route = direct_route(lambda platform: platform == "teams", kari, (SLACK, TEAMS))
    assert [t.platform for t in route.targets] == ["teams"]
    nowhere = direct_route(lambda _platform: False, kari, (SLACK, TEAMS))
    assert nowhere.code == "not_configured" and nowhere.about == "slack"


def test_no_email_and_no_identity_is_unreachable_with_that_reason() -> None:
    route = direct_route(_everywhere, _person(1, None), (SLACK, TEAMS))
    assert route.targets == () and route.code == "no_email"
    assert direct_route(_everywhere, _person(1, "kari@kommune.example"), ()).code == "no_channel"


def test_the_job_carries_the_platforms_to_try_next() -> None:
    mg = _meeting_group(bindings=(SLACK, TEAMS))
    due = due_now(mg, MONDAY_0900)
    planner = Planner(PlanEnv(available=_everywhere), MONDAY_0900, PassOptions())
    planner.meeting(due, MeetingRows([_person(1, "kari@kommune.example"), _person(2, None)], {}, set()))
    [job] = [j for j in planner.plan.jobs if j.direct is not None]
    assert job.direct is not None and job.direct.platform == "slack"
    assert [t.platform for t in job.fallbacks] == ["teams"]
    [unreachable] = planner.plan.unreachable
    assert (unreachable.reminder.member_id, unreachable.code) == (2, "no_email")


def test_a_member_found_nowhere_by_an_earlier_pass_is_listed_until_the_next_look() -> None:
    mg = _meeting_group(bindings=(SLACK, TEAMS))
    due = due_now(mg, MONDAY_0900)
    assert due.deadline_due is not None
    key = LogKey(10, 1, due.deadline_due.kind)
    later = MONDAY_0900 + timedelta(hours=6)
    entry = LogEntry(7, key, ReminderState.UNREACHABLE, "w", later, 1, "not_found:slack,teams")
    planner = Planner(PlanEnv(available=_everywhere), MONDAY_0900, PassOptions())
    planner.meeting(due, MeetingRows([_person(1, "kari@kommune.example")], {key: entry}, set()))
    assert [j for j in planner.plan.jobs if j.direct is not None] == []
    [listed] = planner.plan.unreachable
    assert (listed.code, listed.about) == ("not_found", "slack,teams")
    # When the retry time has come, the member is looked for again.
    again = Planner(PlanEnv(available=_everywhere), later, PassOptions())
    again.meeting(due, MeetingRows([_person(1, "kari@kommune.example")], {key: entry}, set()))
    assert [j.existing_id for j in again.plan.jobs if j.direct is not None] == [7]


def test_directories_are_read_only_for_members_about_to_be_reminded_by_email() -> None:
    mg = _meeting_group(bindings=(SLACK, TEAMS))
    due = due_now(mg, MONDAY_0900)
    assert due.deadline_due is not None
    linked = _person(
        1, "kari@kommune.example", IdentityRow("teams", "tenant-1", "aad"), IdentityRow("slack", "T1", "U1")
    )
    assert unlinked_platforms(due, MeetingRows([linked], {}, set())) == []
    email_only = _person(2, "ola@kommune.example")
    assert unlinked_platforms(due, MeetingRows([linked, email_only], {}, set())) == [
        ("slack", "T1"),
        ("teams", "tenant-1"),
    ]
    # Once tried (sent, unreachable, failed), a member no longer asks for a directory read.
    tried = {
        LogKey(10, 2, due.deadline_due.kind): LogEntry(
            3, LogKey(10, 2, due.deadline_due.kind), ReminderState.SENT, "w", MONDAY_0900, 1
        )
    }
    assert unlinked_platforms(due, MeetingRows([linked, email_only], tried, set())) == []
