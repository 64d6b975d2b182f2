"""A referat with every part present, for the accessibility, Word, PDF and archive checks.

On top of tests/referat_fixtures.build_meeting: a very long name, æøå everywhere, a member
without an organisation (a placeholder in the attendance table), no meeting place (a
placeholder in the header), nested bullet and numbered lists in member text, three work groups,
open and done follow-ups, the secretariat's box (collection still open at NOW). Everyone is
fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from storage.db import Database
from storage.models import FollowUp, FollowUpStatus, Meeting, Member
from tests.referat_fixtures import MeetingFixture, build_meeting

NOW = datetime(2026, 1, 22, 12, 0, tzinfo=UTC)  # two days after the meeting: collection is open
LONG_LAST_NAME = "Kolstøløkken-Ødegårdsli-Aamodt-Grønnvoll-Brekkhus-Tjernæs-Fossheimsbråten"
RICH_TEXT = (
    "Status fra kommunen – «én dør inn» for næringslivet, også i Åsvang og Ørje.\n\n"
    "Tre ting vi prioriterer:\n"
    "- Rekruttering av fagfolk\n"
    "  - særlig ingeniører og lærere\n"
    "  - og helsefagarbeidere\n"
    "- Kraft og nett til nye etableringer\n\n"
    "Neste steg:\n"
    "1. Kartlegge arealene\n"
    "2. Møte nettselskapet\n"
    "3. Rapportere til faggruppen\n\n"
    "Ta gjerne kontakt."
)


async def build_rich_meeting(db: Database, *, locale: str = "nb") -> MeetingFixture:
    """The meeting with every part of the referat present (see the module docstring)."""
    fx = await build_meeting(
        db,
        members=14,
        items=7,
        work_groups=3,
        missing=2,
        nothing=1,
        excused=1,
        locale=locale,
        texts={0: RICH_TEXT, 3: RICH_TEXT.replace("Kartlegge", "Oppdatere")},
    )
    long_name_id, no_org_id = fx.member_ids[4], fx.member_ids[5]
    async with db.session() as s:
        await s.execute(update(Member).where(Member.id == long_name_id).values(last_name=LONG_LAST_NAME))
        await s.execute(update(Member).where(Member.id == no_org_id).values(organisation=""))
        await s.execute(update(Meeting).where(Meeting.id == fx.meeting_id).values(place=""))
        s.add(
            FollowUp(
                meeting_id=fx.meeting_id,
                text="Oppdatere oversikten over kraftbehov – ferdig før møtet",
                owner_text="Sekretariatet",
                status=FollowUpStatus.DONE,
                created_at=NOW,
            )
        )
    fx.names[long_name_id] = f"{fx.names[long_name_id].split(' ')[0]} {LONG_LAST_NAME}"
    return fx
