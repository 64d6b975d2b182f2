"""Signed, expiring download links for drafts, served by the same aiohttp server.

A token names the group, the meeting, the format, the reader's language and the meeting's link
generation. `referat lenker trekk` raises the generation, so every link handed out before stops
working; so does deleting the meeting. Personal exports (`data eksport`) get links of their own
(another salt, an hour's lifetime), bound to the member rows they show and their data generation.
The signing key is `REFERENT_LINK_SECRET`, or a random key made once and kept in the database
(so replicas share it) — never a platform secret, and never anything derived from guessable values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from storage.db import Database
from storage.models import Meeting, Member
from storage.repositories import app_keys

FORMATS = ("md", "html", "docx", "pdf")
# The frozen final referat (`referat endelig`), served from its stored bytes.
FINAL_FORMATS = tuple(f"final-{fmt}" for fmt in FORMATS)
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
# `data eksport`: the member's JSON and the readable summary.
EXPORT_FORMATS = ("json", "txt")
# Personal data: a link good for an hour is enough to click it, and little to leak.
EXPORT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class DraftToken:
    group_id: int
    meeting_id: int
    generation: int
    fmt: str
    locale: str


@dataclass(frozen=True)
class ExportToken:
    """A personal export: the member rows (id, data generation) it covers, format and language."""

    members: tuple[tuple[int, int], ...]
    fmt: str
    locale: str


class LinkKeyMissing(RuntimeError):
    """A link was asked for before the signing key was loaded (a start-up ordering bug)."""


class DraftLinks:
    """Implements handlers.context.LinkSigner."""

    def __init__(
        self, public_url: str | None, *, secret: str | None = None, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.ttl_seconds = ttl_seconds
        self._serializer: URLSafeTimedSerializer | None = None
        self._export_serializer: URLSafeTimedSerializer | None = None
        if secret:
            self.use_key(secret)

    def use_key(self, key: str) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="referent-draft-v2")
        # Another salt: a draft token is never an export token, nor the other way round.
        self._export_serializer = URLSafeTimedSerializer(key, salt="referent-export-v1")

    @property
    def has_key(self) -> bool:
        return self._serializer is not None

    async def load_key(self, db: Database) -> None:
        """Without REFERENT_LINK_SECRET: the key stored in the database, made on first use."""
        if self._serializer is not None:
            return
        async with db.write() as session:
            self.use_key(await app_keys.get_or_create(session, app_keys.LINK_SIGNING_KEY))

    def _signer(self) -> URLSafeTimedSerializer:
        if self._serializer is None:
            raise LinkKeyMissing("the draft-link key is not loaded; call DraftLinks.load_key first")
        return self._serializer

    def token(self, meeting: Meeting, fmt: str, locale: str) -> str:
        generation = meeting.link_generation or 0
        payload = {"g": meeting.group_id, "m": meeting.id, "v": generation, "f": fmt, "l": locale}
        return str(self._signer().dumps(payload))

    def draft_url(self, meeting: Meeting, fmt: str, locale: str) -> str | None:
        if not self.public_url or self._serializer is None:
            return None
        return f"{self.public_url}/drafts/{self.token(meeting, fmt, locale)}"

    def export_url(self, members: Sequence[Member], fmt: str, locale: str) -> str | None:
        """A link to one member's own data (every membership the export covers), bound to each
        member row's data generation: `data slett` raises it, and the link dies."""
        if not self.public_url or self._export_serializer is None or not members:
            return None
        payload = {"u": [[m.id, m.data_generation or 0] for m in members], "f": fmt, "l": locale}
        return f"{self.public_url}/exports/{self._export_serializer.dumps(payload)}"

    def read_export(self, token: str) -> ExportToken | None:
        """The export token's content, or None when forged, malformed or older than an hour.
        Whether its members still are at its generations is `export_is_current`."""
        if self._export_serializer is None or len(token) > 2048:
            return None
        try:
            data = self._export_serializer.loads(token, max_age=EXPORT_TTL_SECONDS)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("f") not in EXPORT_FORMATS:
            return None
        rows, locale = data.get("u"), data.get("l")
        if not isinstance(rows, list) or not rows or len(rows) > 100 or not isinstance(locale, str):
            return None
        members: list[tuple[int, int]] = []
        for row in rows:
            if not (
                isinstance(row, list)
                and len(row) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in row)
            ):
                return None
            members.append((int(row[0]), int(row[1])))
        return ExportToken(tuple(members), str(data["f"]), locale)

    def read(self, token: str) -> DraftToken | None:
        """The token's content, or None when it is forged, malformed or expired. Whether it is
        still current (its meeting exists, in its group, at its generation) is `is_current`."""
        if self._serializer is None or len(token) > 1024:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.ttl_seconds)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        values = data.get("g"), data.get("m"), data.get("v"), data.get("f"), data.get("l")
        group_id, meeting_id, generation, fmt, locale = values
        ids = (group_id, meeting_id, generation)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ids):
            return None
        if (fmt not in FORMATS and fmt not in FINAL_FORMATS) or not isinstance(locale, str):
            return None
        return DraftToken(int(group_id), int(meeting_id), int(generation), str(fmt), locale)  # type: ignore[arg-type]


def is_current(token: DraftToken, meeting: Meeting | None) -> bool:
    """The meeting still exists, belongs to the token's group, and its links were not revoked."""
    return (
        meeting is not None
        and meeting.group_id == token.group_id
        and (meeting.link_generation or 0) == token.generation
    )


def export_is_current(token: ExportToken, members: Sequence[Member | None]) -> bool:
    """Every member row of the token still exists at the token's data generation."""
    return len(members) == len(token.members) and all(
        member is not None and member.id == member_id and (member.data_generation or 0) == generation
        for member, (member_id, generation) in zip(members, token.members, strict=True)
    )
