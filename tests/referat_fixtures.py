"""Builds a fictional faggruppe with a meeting, an agenda and everything members post, for tests
and benchmarks. Everyone here is made up; the municipalities are real place names.

    fx = await build_meeting(db, members=45, items=12, work_groups=3)
    fx.round_texts[member_id]  # what that member posted to the round table, in order

The defaults give a small but complete meeting: two approval items, an out-of-sequence "Sak 11"
discussed right after Sak 2, a discussion item without notes (placeholders), written input to
an agenda item, a round-table item, Eventuelt, attendance (chair, substitute, forfall),
secretariat, a work-group poll with sign-ups and follow-ups. Every count can be changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from storage.db import Database
from storage.models import (
    AgendaItem,
    AgendaKind,
    Attendance,
    AttendanceStatus,
    FollowUp,
    FollowUpStatus,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Platform,
    Poll,
    PollOption,
    Role,
    Submission,
    SubmissionKind,
    Vote,
)

# fmt: off
FIRST_NAMES = (
    "Åse", "Bjørnar", "Cecilie", "Dagfinn", "Eirin", "Frode", "Gunnhild", "Halvard", "Ingeborg",
    "Jørund", "Kjersti", "Leiv", "Marit", "Njål", "Oddny", "Pål", "Ragnhild", "Sølve", "Tordis",
    "Ulrik", "Vigdis", "Yngve", "Ærle", "Øydis", "Synnøve", "Torleif", "Brynhild", "Eskild",
)
LAST_NAMES = (
    "Bakkelund", "Strandå", "Myrvold-Hauge", "Høgtun", "Nesbakken", "Kvernmo", "Solbergli",
    "Lienæs", "Fossheim", "Tjernås", "Åsvang", "Grønnlid", "Eikremsvik", "Vikbø", "Holtåsen",
    "Dalsrud", "Brekkhus", "Ødegårdsli", "Rypdal", "Kolstøløkken", "Fjellvær", "Sandmo", "Furuhaug",
)
ORGANISATIONS = (
    "Asker kommune", "Drammen kommune", "Lillestrøm kommune", "Bærum kommune", "Ringerike kommune",
    "Kongsberg kommune", "Halden kommune", "Gran kommune", "Lunner kommune", "Nordre Follo kommune",
    "Ullensaker kommune", "Hamar kommune", "Moss kommune", "Fredrikstad kommune", "Gjøvik kommune",
    "Elverum kommune", "Horten kommune", "Modum kommune", "Grue kommune", "Frogn kommune",
)
ITEM_TITLES = (
    ("Handlingsprogram 2026 – effekt- og resultatmål", AgendaKind.DISCUSSION),
    ("Næringsarealer i regionen", AgendaKind.ORIENTATION),
    ("Kompetanse og rekruttering", AgendaKind.DISCUSSION),
    ("Sirkulær økonomi – status", AgendaKind.ORIENTATION),
    ("Kraft og nettkapasitet", AgendaKind.DISCUSSION),
    ("Orienteringer fra sekretariatet", AgendaKind.ORIENTATION),
    ("Kommende arrangementer", AgendaKind.ORIENTATION),
    ("Reiseliv og besøksnæring", AgendaKind.OTHER),
)
WORK_GROUPS = (
    "Næringsarealer og kartlegging",
    "Internasjonal rekruttering",
    "Sirkulær økonomi",
    "Attraktivitet og tilflytting",
    "Kompetansebehov",
)
# fmt: on
SECRETARIAT_ORG = "Fjordregionen IPR"


def person_name(i: int) -> tuple[str, str]:
    """A fictional (first, last) name, unique for every i below a few hundred thousand."""
    first = FIRST_NAMES[i % len(FIRST_NAMES)]
    last = LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
    cycle = i // (len(FIRST_NAMES) * len(LAST_NAMES))
    return first, last if cycle == 0 else f"{last} {cycle + 1}"


def round_text(i: int, post: int = 0) -> str:
    """A round-table post with paragraphs, bullets and æøå; 'Oppdatering nr. i.post' marks it."""
    if post:
        return f"Tillegg {i}.{post}: Vi følger opp saken om næringsarealer på Ås og Ørje."
    return (
        f"Oppdatering nr. {i}.0 fra kommunen. Vi har hatt et travelt år med mye på gang.\n"
        "Arbeidet med næringsarealer går videre.\n\n"
        "Tre ting vi prioriterer:\n"
        f"- Rekruttering av fagfolk til {ORGANISATIONS[i % len(ORGANISATIONS)]}\n"
        "- Kraft og nett til nye etableringer\n"
        "  - særlig i sør\n"
        "- Samarbeid med nabokommunene om «én dør inn»\n\n"
        "Ta gjerne kontakt for mer informasjon."
    )


@dataclass
class MeetingFixture:
    """Ids and the texts that went in, so tests can check every one of them comes out."""

    group_id: int
    meeting_id: int
    previous_meeting_id: int
    member_ids: list[int]  # non-secretariat roster members, in roster order
    secretariat_ids: list[int]
    chair_id: int
    names: dict[int, str]  # every member id → "First Last"
    organisations: dict[int, str]
    item_numbers: list[int]  # agenda numbers in order of discussion
    item_ids: dict[int, int]  # number → id
    round_texts: dict[int, list[str]] = field(default_factory=dict)  # member id → posts in order
    nothing_ids: list[int] = field(default_factory=list)  # said "runde ingen"
    excused_ids: list[int] = field(default_factory=list)
    substitute_id: int | None = None  # an off-roster person attending as vara
    substituted_id: int | None = None
    input_texts: dict[int, list[tuple[int, str]]] = field(
        default_factory=dict
    )  # item number → [(member, text)]
    missing_ids: list[int] = field(default_factory=list)  # roster members who have posted nothing
    work_group_labels: list[str] = field(default_factory=list)
    signups: dict[str, list[int]] = field(default_factory=dict)  # label → member ids in sign-up order
    follow_up_texts: list[str] = field(default_factory=list)


async def build_meeting(
    db: Database,
    *,
    members: int = 12,
    items: int = 6,
    work_groups: int = 2,
    secretariat: int = 2,
    group_name: str = "Næringssamarbeid",
    organisation: str = "Fjordregionen",
    locale: str = "nb",
    starts_at: datetime = datetime(2026, 1, 20, 9, 0, tzinfo=UTC),  # 10.00 in Oslo
    duration: timedelta = timedelta(hours=2),
    status: MeetingStatus = MeetingStatus.OPEN,
    out_of_sequence: int | None = 11,
    missing: int = 2,
    nothing: int = 1,
    excused: int = 1,
    second_posts_every: int = 3,
    poll_on_meeting: bool = True,
    round_question: str | None = "Hva er to ting som er viktig for kommunene ut året?",
    papers_url: str | None = "https://example.org/faggruppe/sakspapirer-januar",
    texts: dict[int, str] | None = None,
) -> MeetingFixture:
    """Create the whole meeting. `texts` overrides the round-table text of member index i
    (0-based among the non-secretariat members), e.g. to inject markup."""
    assert items >= 4, "need room for two approval items, a round table and Eventuelt"
    assert members >= missing + nothing + excused + 2
    ends_at = starts_at + duration
    async with db.session() as s:
        group = Group(name=group_name, organisation=organisation, locale=locale, papers_url=None)
        s.add(group)
        await s.flush()

        roster: list[Member] = []
        for i in range(members):
            first, last = person_name(i)
            roster.append(
                Member(
                    group_id=group.id,
                    first_name=first,
                    last_name=last,
                    organisation=ORGANISATIONS[i % len(ORGANISATIONS)],
                    email=f"medlem{i}@example.org",
                    role=Role.CHAIR if i == 0 else Role.MEMBER,
                    title="leder av faggruppen" if i == 0 else "",
                )
            )
        staff = [
            Member(
                group_id=group.id,
                first_name=person_name(620 + j)[0],
                last_name=person_name(620 + j)[1],
                organisation=SECRETARIAT_ORG,
                email=f"sekretariat{j}@example.org",
                role=Role.SECRETARIAT,
            )
            for j in range(secretariat)
        ]
        vara_first, vara_last = person_name(643)
        vara = Member(
            group_id=group.id,
            first_name=vara_first,
            last_name=vara_last,
            organisation=roster[1].organisation,
            email="vara@example.org",
            on_roster=False,
        )
        s.add_all([*roster, *staff, vara])
        await s.flush()

        previous = Meeting(
            group_id=group.id,
            starts_at=starts_at - timedelta(days=70),
            ends_at=ends_at - timedelta(days=70),
            place="Teams",
            status=MeetingStatus.CLOSED,
        )
        meeting = Meeting(
            group_id=group.id,
            starts_at=starts_at,
            ends_at=ends_at,
            place="Teams",
            chair_member_id=roster[0].id,
            status=status,
            papers_url=papers_url,
            round_question=round_question,
            created_at=starts_at - timedelta(days=14),
        )
        s.add_all([previous, meeting])
        await s.flush()

        # Agenda: numbers 1.. skipping the out-of-sequence one, which is discussed after Sak 2.
        regular = items - (1 if out_of_sequence else 0)
        numbers = [n for n in range(1, regular + 2) if n != out_of_sequence][:regular]
        specs: list[tuple[int, str, AgendaKind]] = [
            (numbers[0], "Godkjenning av innkalling og dagsorden", AgendaKind.APPROVAL),
            (numbers[1], "Godkjenning av referat fra forrige møte", AgendaKind.APPROVAL),
        ]
        middle = numbers[2:-2]
        for k, number in enumerate(middle):
            title, kind = ITEM_TITLES[k % len(ITEM_TITLES)]
            if k >= len(ITEM_TITLES):
                title = f"{title} ({k // len(ITEM_TITLES) + 1})"
            specs.append((number, title, kind))
        specs.append((numbers[-2], "Runde rundt bordet", AgendaKind.ROUND_TABLE))
        specs.append((numbers[-1], "Eventuelt", AgendaKind.OTHER))
        if out_of_sequence:
            specs.insert(
                2, (out_of_sequence, "Internasjonal profilering og talentattraksjon", AgendaKind.ORIENTATION)
            )
        agenda: list[AgendaItem] = []
        for position, (number, title, kind) in enumerate(specs, start=1):
            item = AgendaItem(
                meeting_id=meeting.id, number=number, position=float(position), title=title, kind=kind
            )
            if kind == AgendaKind.ORIENTATION:
                item.presenter = f"{staff[0].first_name} {staff[0].last_name}" if staff else "Sekretariatet"
                item.notes = (
                    f"Sekretariatet orienterte om {title.lower()}. Se egen presentasjon.\n\n"
                    "- Status er god\n- Neste steg avklares i vår"
                )
            elif kind == AgendaKind.DISCUSSION and len(agenda) % 2 == 0:
                item.notes = "Diskusjon:\n- Bred enighet om retningen\n- Behov for bedre data om arealer"
                item.decision = "Faggruppen slutter seg til forslaget."
            item.wants_input = kind == AgendaKind.DISCUSSION
            agenda.append(item)
        s.add_all(agenda)
        await s.flush()
        item_ids = {item.number: item.id for item in agenda}
        discussion = next((it for it in agenda if it.kind == AgendaKind.DISCUSSION), agenda[2])

        fx = MeetingFixture(
            group_id=group.id,
            meeting_id=meeting.id,
            previous_meeting_id=previous.id,
            member_ids=[m.id for m in roster],
            secretariat_ids=[m.id for m in staff],
            chair_id=roster[0].id,
            names={m.id: m.name for m in [*roster, *staff, vara]},
            organisations={m.id: m.organisation for m in [*roster, *staff, vara]},
            item_numbers=[n for n, _, _ in specs],
            item_ids=item_ids,
        )

        # Who does what: the last `missing` post nothing, before them `nothing` say "runde ingen",
        # before them `excused` sent apologies; member 1 is away with a substitute.
        order = list(range(members))
        missing_idx = order[members - missing :]
        nothing_idx = order[members - missing - nothing : members - missing]
        excused_idx = order[members - missing - nothing - excused : members - missing - nothing]
        posting_idx = [i for i in order if i not in (*missing_idx, *nothing_idx, *excused_idx)]
        fx.missing_ids = [roster[i].id for i in missing_idx]
        fx.nothing_ids = [roster[i].id for i in nothing_idx]
        fx.excused_ids = [roster[i].id for i in excused_idx]
        fx.substitute_id, fx.substituted_id = vara.id, roster[1].id

        clock = ends_at + timedelta(minutes=5)
        ref = 0
        subs: list[Submission] = []

        def submission(member: Member, kind: SubmissionKind, text: str, item_id: int | None = None) -> None:
            nonlocal clock, ref
            clock += timedelta(seconds=37)
            ref += 1
            platform = Platform.SLACK if ref % 2 else Platform.TEAMS
            subs.append(
                Submission(
                    meeting_id=meeting.id,
                    member_id=member.id,
                    kind=kind,
                    agenda_item_id=item_id,
                    text=text,
                    source_platform=platform,
                    source_ref=f"m{meeting.id}-msg-{ref}",
                    created_at=clock,
                    updated_at=clock,
                )
            )

        # Posting order is not roster order: walk the posters back to front, then add second posts.
        for i in reversed(posting_idx):
            text = (texts or {}).get(i, round_text(i))
            submission(roster[i], SubmissionKind.ROUND, text)
            fx.round_texts.setdefault(roster[i].id, []).append(text)
        for i in posting_idx[::second_posts_every] if second_posts_every else []:
            text = round_text(i, post=1)
            submission(roster[i], SubmissionKind.ROUND, text)
            fx.round_texts[roster[i].id].append(text)
        for i in nothing_idx:
            submission(roster[i], SubmissionKind.NOTHING, "")
        # Written input to the discussion item, by a poster and by someone who has no round entry.
        for i in (posting_idx[0], missing_idx[0] if missing_idx else posting_idx[-1]):
            text = f"Innspill nr. {i}: Vi ønsker at faggruppen prioriterer arealer.\n- Kartlegging\n- Kraft"
            submission(roster[i], SubmissionKind.INPUT, text, discussion.id)
            fx.input_texts.setdefault(discussion.number, []).append((roster[i].id, text))
        s.add_all(subs)

        attendance = [
            Attendance(meeting_id=meeting.id, member_id=roster[i].id, status=AttendanceStatus.PRESENT)
            for i in order
            if i not in excused_idx and i != 1
        ]
        attendance += [
            Attendance(meeting_id=meeting.id, member_id=roster[i].id, status=AttendanceStatus.EXCUSED)
            for i in excused_idx
        ]
        attendance.append(
            Attendance(
                meeting_id=meeting.id,
                member_id=vara.id,
                status=AttendanceStatus.SUBSTITUTE,
                substitute_for_member_id=roster[1].id,
            )
        )
        if staff:
            attendance.append(
                Attendance(meeting_id=meeting.id, member_id=staff[0].id, status=AttendanceStatus.PRESENT)
            )
        s.add_all(attendance)

        if work_groups:
            poll = Poll(
                group_id=group.id,
                meeting_id=meeting.id if poll_on_meeting else None,
                question="Meld deg på arbeidsgruppene",
                created_at=ends_at - timedelta(minutes=30),
            )
            s.add(poll)
            await s.flush()
            options = []
            for k in range(work_groups):
                label = WORK_GROUPS[k % len(WORK_GROUPS)] + ("" if k < len(WORK_GROUPS) else f" {k + 1}")
                options.append(
                    PollOption(
                        poll_id=poll.id,
                        position=k + 1,
                        label=label,
                        responsible_member_id=roster[(k * 3 + 2) % members].id if k != 1 else None,
                        responsible_text="Sekretariatet" if k == 1 else None,
                        cap=8 if k == 0 else None,
                    )
                )
                fx.work_group_labels.append(label)
            s.add_all(options)
            await s.flush()
            votes = []
            vote_clock = ends_at - timedelta(minutes=29)
            for i in order:
                if i in excused_idx:
                    continue
                picks = dict.fromkeys([i % work_groups, (i * 7 + 1) % work_groups])
                for option in (options[k] for k in picks):
                    vote_clock += timedelta(seconds=3)
                    votes.append(
                        Vote(
                            poll_id=poll.id,
                            option_id=option.id,
                            member_id=roster[i].id,
                            created_at=vote_clock,
                        )
                    )
                    fx.signups.setdefault(option.label, []).append(roster[i].id)
            s.add_all(votes)

        follow_ups = [
            FollowUp(
                meeting_id=meeting.id,
                agenda_item_id=discussion.id,
                text="Sende ut forslag til webinarserie per e-post",
                owner_text="Sekretariatet",
                due_date=date(2026, 2, 15),
                created_at=ends_at,
            ),
            FollowUp(
                meeting_id=meeting.id,
                text="Kartlegge ledige næringsarealer i egen kommune",
                owner_member_id=roster[2].id,
                status=FollowUpStatus.OPEN,
                created_at=ends_at + timedelta(minutes=1),
            ),
        ]
        s.add_all(follow_ups)
        fx.follow_up_texts = [f.text for f in follow_ups]
    return fx
