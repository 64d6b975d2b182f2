"""Linking roster members to the people a chat platform lists, by e-mail.

A roster is typed by the secretariat and knows people by name and e-mail; a platform knows them by
its own ids. Someone who never wrote to the bot is linked here from the platform's member list
(Teams: the members of the teams the bot is in, read when the bot is added to a team, when someone
installs the app for themselves, and before a reminder pass needs them), so reminders reach them
by identity on their own platform instead of being looked up each time.

Only groups bound to a channel in the same workspace or tenant are considered: a tenant's member
list never links a member of a group that lives elsewhere. The address is the member-list entry's
e-mail, else its user principal name (UPN), compared without regard to case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One person in a platform's member list."""

    user_id: str  # the id Referent knows the user by (Teams: the Entra object id, else `29:…`)
    name: str
    addresses: tuple[str, ...]  # e-mail first, then UPN; any case


@dataclass(frozen=True, slots=True)
class Linked:
    member_id: int
    group_id: int
    entry: DirectoryEntry


def _index(entries: Iterable[DirectoryEntry]) -> dict[str, DirectoryEntry]:
    """Address → entry; an e-mail wins over someone else's identical UPN."""
    entries = [e for e in entries if e.user_id]
    index: dict[str, DirectoryEntry] = {}
    for position in (0, 1):
        for entry in entries:
            if len(entry.addresses) > position:
                address = member_repo.normalise_email(entry.addresses[position])
                if address and "@" in address:
                    index.setdefault(address, entry)
    return index


async def link_by_email(
    db: Database, platform: str, workspace_id: str, entries: Iterable[DirectoryEntry]
) -> list[Linked]:
    """Link the roster members of the groups bound in this workspace whom the member list knows by
    e-mail (or UPN) and who have no identity on this platform yet. A chat user already linked to
    another member of the same group is left alone. One transaction; returns what was linked."""
    index = _index(entries)
    if not index or not workspace_id:
        return []
    linked: list[Linked] = []
    async with db.write() as session:
        groups = await group_repo.groups_bound_in_workspace(session, platform, workspace_id)
        if not groups:
            return []
        candidates = await member_repo.unlinked_by_email(
            session, [g.id for g in groups], platform, list(index)
        )
        taken: dict[int, set[str]] = {}
        for member in candidates:
            entry = index.get(member.email or "")
            if entry is None:
                continue
            if member.group_id not in taken:
                known = await member_repo.linked_members(session, member.group_id, platform, workspace_id)
                taken[member.group_id] = set(known)
            if entry.user_id in taken[member.group_id]:
                continue
            await member_repo.link_identity(
                session, member, platform, workspace_id, entry.user_id, entry.name
            )
            taken[member.group_id].add(entry.user_id)
            linked.append(Linked(member.id, member.group_id, entry))
    return linked
