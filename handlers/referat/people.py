"""Who wrote what, as the referat names them: display names with the organisation (or its
placeholder), and members' posts grouped under one heading each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from handlers.referat.blocks import one_line, parse_text
from handlers.referat.model import Entry, Labels
from storage.models import (
    Member,
    Submission,
)


class People:
    """Display names for members, with the placeholder for a missing organisation."""

    def __init__(self, members: Mapping[int, Member], labels: Labels) -> None:
        self.members = members
        self.labels = labels
        self._cache: dict[int, tuple[str, str, bool]] = {}

    def parts(self, member_id: int) -> tuple[str, str, bool]:
        """(name, organisation or placeholder, organisation missing)."""
        cached = self._cache.get(member_id)
        if cached is not None:
            return cached
        member = self.members.get(member_id)
        name = one_line(member.name) if member else ""
        org = one_line(member.organisation) if member else ""
        result = (name or "?", org or self.labels["org_missing"], not org)
        self._cache[member_id] = result
        return result

    def name(self, member_id: int | None) -> str:
        return self.parts(member_id)[0] if member_id is not None else "?"

    def with_org(self, member_id: int) -> str:
        """The list form of the house style: Navn (Organisasjon)."""
        name, org, _ = self.parts(member_id)
        return f"{name} ({org})"

    def comma_org(self, member_id: int) -> str:
        """The heading form of the round table: Navn, Organisasjon."""
        name, org, _ = self.parts(member_id)
        return f"{name}, {org}"


def grouped_entries(submissions: Iterable[Submission], people: People, heading: str) -> tuple[Entry, ...]:
    """Group posts by member under one heading each; members appear in order of first post."""
    texts: dict[int, list[str]] = {}
    for sub in submissions:
        if sub.text and sub.text.strip():
            texts.setdefault(sub.member_id, []).append(sub.text)
    return tuple(
        Entry(
            member_id=member_id,
            heading=heading.format(who=people.comma_org(member_id)),
            text=tuple(block for post in posts for block in parse_text(post)),
        )
        for member_id, posts in texts.items()
    )
