"""Roster import from CSV in the shape of the invitation's "Inviterte" table.

Columns (header row, any order, any case): Fornavn, Etternavn, Organisasjon; optional E-post,
Rolle, Tittel (English headers work too). Comma, semicolon or TAB delimited, UTF-8 with or without
a byte-order mark (Excel's "CSV UTF-8"); Windows-1252 is accepted as a fallback for older Excel.

All or nothing: every row is checked before anything is written, and the write is one
transaction, so a bad row (reported with its line number) leaves the database as it was.
Re-importing updates members by e-mail, or by name when a row has no e-mail, instead of
duplicating them. A name matches only an earlier roster row, never a member who joined from chat
under a display name: chat identities are linked by e-mail only (handlers/identity.py), so a role
in the file never passes to a look-alike.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import record_cli
from handlers.command_table import ROLE_WORDS, fold
from handlers.i18n import normalise_locale
from handlers.text import clean
from storage.db import Database
from storage.models import Group, Member, Role
from storage.repositories import groups as group_repo
from storage.repositories import members as member_repo

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_NAME_LIMIT = 200
_ORG_LIMIT = 300
_EMAIL_LIMIT = 320

# Folded header words → field.
_HEADERS: dict[str, str] = {
    "fornavn": "first_name",
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "etternavn": "last_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "organisasjon": "organisation",
    "organisation": "organisation",
    "organization": "organisation",
    "kommune": "organisation",
    "kommune / region": "organisation",
    "kommune/region": "organisation",
    "e-post": "email",
    "epost": "email",
    "e-postadresse": "email",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "rolle": "role",
    "role": "role",
    "tittel": "title",
    "title": "title",
    "stilling": "title",
}
_REQUIRED = ("first_name", "last_name", "organisation")
_HEADER_NAMES = {"first_name": "Fornavn", "last_name": "Etternavn", "organisation": "Organisasjon"}


class RosterError(ValueError):
    """A roster file that cannot be imported; `line` is the 1-based line in the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    first_name: str
    last_name: str
    organisation: str
    email: str | None
    role: Role | None  # None: the file says nothing, keep the member's role
    title: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class RosterImportResult:
    group_name: str
    group_created: bool
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        """One line for the CLI."""
        made = " (new group)" if self.group_created else ""
        return (
            f"Roster for {self.group_name}{made}: {self.created} added, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def _read_source(source: Path | str) -> str:
    """A path, or (a str holding a line break) the CSV text itself."""
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source.removeprefix("\ufeff")
    try:
        return _decode(Path(source).read_bytes())
    except UnicodeDecodeError as exc:  # pragma: no cover - cp1252 decodes almost anything
        raise RosterError(1, f"the file is not UTF-8 text ({exc.reason})") from None


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in (";", "\t", ",")}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = _HEADERS.get(" ".join(fold(clean(raw)).strip().strip('"').split()))
        if key is not None and key not in columns:
            columns[key] = index
    missing = [_HEADER_NAMES[k] for k in _REQUIRED if k not in columns]
    if missing:
        raise RosterError(
            1,
            f"missing column(s): {', '.join(missing)} (the header must name Fornavn, "
            "Etternavn and Organisasjon)",
        )
    return columns


def _role(value: str, line: int) -> Role | None:
    if not value:
        return None
    role = ROLE_WORDS.get(fold(value).strip(" ."))
    if role is None:
        raise RosterError(line, f"unknown role {value!r} (use medlem, leder or sekretariat)")
    return Role(role)


def _field(row: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    if index is None or index >= len(row):
        return ""
    return " ".join(clean(row[index]).split())


def _check_length(value: str, limit: int, what: str, line: int) -> None:
    if len(value) > limit:
        raise RosterError(line, f"{what} is longer than {limit} characters")


def parse_roster(text: str) -> list[RosterRow]:
    """Every row of the file, checked; raises RosterError at the first bad one."""
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: dict[str, int] | None = None
    width = 0
    rows: list[RosterRow] = []
    seen_emails: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if columns is None:
                columns = _columns(record)
                width = len(record)
                continue
            if any(cell.strip() for cell in record[width:]):
                raise RosterError(
                    line,
                    f"{len(record)} values, but the header has {width} columns "
                    f"(put quotes around a value that contains {delimiter!r})",
                )
            first = _field(record, columns, "first_name")
            last = _field(record, columns, "last_name")
            organisation = _field(record, columns, "organisation")
            email = _field(record, columns, "email").lower() or None
            if not first:
                raise RosterError(line, "Fornavn (first name) is empty")
            _check_length(first, _NAME_LIMIT, "Fornavn", line)
            _check_length(last, _NAME_LIMIT, "Etternavn", line)
            _check_length(organisation, _ORG_LIMIT, "Organisasjon", line)
            if email is not None:
                _check_length(email, _EMAIL_LIMIT, "E-post", line)
                if not _EMAIL.match(email):
                    raise RosterError(line, f"{email!r} is not an e-mail address")
                if email in seen_emails:
                    raise RosterError(line, f"{email} is also on line {seen_emails[email]}")
                seen_emails[email] = line
            else:
                key = fold(f"{first} {last}")
                if key in seen_names:
                    raise RosterError(
                        line, f"{first} {last} (without e-mail) is also on line {seen_names[key]}"
                    )
                seen_names[key] = line
            title = _field(record, columns, "title") if "title" in columns else None
            rows.append(
                RosterRow(
                    line,
                    first,
                    last,
                    organisation,
                    email,
                    _role(_field(record, columns, "role"), line),
                    title,
                )
            )
    except csv.Error as exc:
        raise RosterError(reader.line_num or 1, f"not valid CSV ({exc})") from None
    if columns is None:
        raise RosterError(1, "the file is empty (expected a header: Fornavn, Etternavn, Organisasjon)")
    return rows


def _apply(member: Member, row: RosterRow) -> bool:
    """Copy a row onto a member; True when anything changed."""
    changes = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "organisation": row.organisation,
        "on_roster": True,
    }
    if row.email is not None:
        changes["email"] = row.email
    if row.role is not None:
        changes["role"] = row.role
    if row.title is not None:
        changes["title"] = row.title
    changed = False
    for field, value in changes.items():
        if getattr(member, field) != value:
            setattr(member, field, value)
            changed = True
    return changed


async def _target_group(
    session: AsyncSession, name: str, workspace: str | None, group_id: int | None, locale: str | None = None
) -> tuple[Group, bool]:
    """The group a roster goes to: by id, or by name (in one workspace/tenant when given). A
    name that several groups share is refused with how to name one exactly; a name no group has
    makes a new group (on the command line, until `oppsett` binds it)."""
    if group_id is not None:
        group = await group_repo.get_group(session, group_id)
        if group is None:
            raise RosterError(1, f"there is no group with id {group_id}")
        return group, False
    found = await group_repo.groups_named(session, name, workspace=workspace)
    if len(found) > 1:
        listed = "; ".join(
            f"id {g.id}: {g.name!r} in {g.home_platform.value} {g.home_workspace or '(command line)'}"
            for g in found
        )
        raise RosterError(
            1,
            f"{len(found)} groups are named {name!r} ({listed}). Name one exactly: "
            f'--group "{found[0].name}" --workspace <workspace or tenant id>, or --group-id <id>',
        )
    if found:
        return found[0], False
    if workspace is not None:
        raise RosterError(1, f"no group named {name!r} belongs to workspace {workspace!r}")
    return await group_repo.get_or_create_group(session, name, locale=locale)


async def import_roster(
    db: Database,
    source: Path | str,
    group_name: str = "",
    *,
    workspace: str | None = None,
    group_id: int | None = None,
    locale: str | None = None,
) -> RosterImportResult:
    """Import (or re-import) a roster into a group, creating the group if it does not exist (in
    `locale`, the operator's REFERENT_LOCALE or `--locale`; an existing group keeps its own)."""
    rows = parse_roster(_read_source(source))
    name = " ".join(clean(group_name).split())
    if not name and group_id is None:
        raise RosterError(1, "the group name is empty")
    created = updated = unchanged = 0
    async with db.write() as session:
        group, group_created = await _target_group(
            session, name, workspace, group_id, normalise_locale(locale)
        )
        members = await member_repo.members_of(session, group.id)
        by_email = {m.email.lower(): m for m in members if m.email}
        for row in rows:
            member = by_email.get(row.email) if row.email else None
            if member is None:
                # Only an earlier roster row is matched by name (to update it): never a member
                # made from a chat display name, so no role passes to a look-alike.
                same_name = [
                    m
                    for m in members
                    if m.on_roster
                    and fold(m.name) == fold(row.name)
                    and (m.email is None or row.email is None)
                ]
                if len(same_name) > 1:
                    raise RosterError(
                        row.line, f"{row.name} matches several members; add an e-mail to tell them apart"
                    )
                member = same_name[0] if same_name else None
            if member is None:
                member = await member_repo.create_member(
                    session,
                    group.id,
                    row.first_name,
                    row.last_name,
                    organisation=row.organisation,
                    email=row.email,
                    role=row.role or Role.MEMBER,
                    title=row.title or "",
                )
                members.append(member)
                created += 1
            elif _apply(member, row):
                updated += 1
            else:
                unchanged += 1
            if member.email:
                by_email[member.email] = member
        await session.flush()
        await record_cli(
            session,
            "roster.import",
            at=datetime.now(UTC),
            group=group,
            detail={
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "group_created": group_created,
            },
        )
    return RosterImportResult(group.name, group_created, created, updated, unchanged)
