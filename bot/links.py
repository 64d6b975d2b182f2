"""Signed, expiring download links for drafts, served by the same aiohttp server.

A token names the group, the meeting, the format, the reader's language and the meeting's link
generation. `referat lenker trekk` raises the generation, so every link handed out before stops
working; so does deleting the meeting. The signing key is `REFERENT_LINK_SECRET`, or a random key
made once and kept in the database (so replicas share it) — never a platform secret, and never
anything derived from guessable values.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from storage.db import Database
from storage.models import Meeting
from storage.repositories import app_keys

FORMATS = ("md", "html", "docx", "pdf")
DEFAULT_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class DraftToken:
    group_id: int
    meeting_id: int
    generation: int
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
        if secret:
            self.use_key(secret)

    def use_key(self, key: str) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="referent-draft-v2")

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
        if fmt not in FORMATS or not isinstance(locale, str):
            return None
        return DraftToken(int(group_id), int(meeting_id), int(generation), str(fmt), locale)  # type: ignore[arg-type]


def is_current(token: DraftToken, meeting: Meeting | None) -> bool:
    """The meeting still exists, belongs to the token's group, and its links were not revoked."""
    return (
        meeting is not None
        and meeting.group_id == token.group_id
        and (meeting.link_generation or 0) == token.generation
    )
