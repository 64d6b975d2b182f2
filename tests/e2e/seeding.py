"""Seed storage directly with what `oppsett`, `roster import` and `mote ny` would leave behind,
for end-to-end tests that are about something after the set-up (shared by Slack and Teams)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models import (
    ChannelBinding,
    ChannelMessage,
    Group,
    Meeting,
    MeetingStatus,
    Member,
    Platform,
    Role,
)


@dataclass(frozen=True)
class RosterEntry:
    user_id: str
    name: str
    email: str | None
    role: Role


@dataclass
class SeededGroup:
    group_id: int
    meeting_id: int | None
    collection_ref: str | None
    members: dict[str, int] = field(default_factory=dict)  # platform user id → member id


async def seed_group(
    db: Database,
    *,
    platform: Platform,
    workspace_id: str,
    channel_id: str,
    roster: list[RosterEntry],
    meeting: bool,
    starts_in: timedelta,
    collection_ref: str | None,
) -> SeededGroup:
    """A group bound to one channel, a roster, an open meeting and (with `collection_ref`) its
    collection message in that channel."""
    async with db.session() as session:
        group = Group(
            name="Faggruppe for test",
            organisation="Testregionen",
            home_platform=platform,
            home_workspace=workspace_id,
        )
        session.add(group)
        await session.flush()
        session.add(
            ChannelBinding(
                group_id=group.id, platform=platform, workspace_id=workspace_id, channel_id=channel_id
            )
        )
        ids: dict[str, int] = {}
        for entry in roster:
            first, _, last = entry.name.partition(" ")
            member = Member(
                group_id=group.id,
                first_name=first,
                last_name=last,
                organisation="Testkommune",
                email=(entry.email or "").lower() or None,
                role=entry.role,
            )
            session.add(member)
            await session.flush()
            ids[entry.user_id] = member.id
        meeting_id: int | None = None
        if meeting:
            start = (datetime.now(UTC) + starts_in).replace(minute=0, second=0, microsecond=0)
            row = Meeting(
                group_id=group.id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="Teams",
                status=MeetingStatus.OPEN,
            )
            session.add(row)
            await session.flush()
            meeting_id = row.id
            if collection_ref is not None:
                session.add(
                    ChannelMessage(
                        purpose="collection",
                        subject_id=row.id,
                        platform=platform,
                        workspace_id=workspace_id,
                        channel_id=channel_id,
                        message_ref=collection_ref,
                    )
                )
        else:
            collection_ref = None
        group_id = group.id
    return SeededGroup(group_id, meeting_id, collection_ref, ids)
