"""Signed, expiring download links for drafts, served by the same aiohttp server."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FORMATS = ("md", "html", "docx", "pdf")


@dataclass(frozen=True)
class DraftToken:
    meeting_id: int
    fmt: str
    locale: str


class DraftLinks:
    """Implements handlers.context.LinkSigner."""

    def __init__(self, secret: str, public_url: str | None, ttl_seconds: int = 7 * 24 * 3600) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="referent-draft")
        self.public_url = public_url.rstrip("/") if public_url else None
        self.ttl_seconds = ttl_seconds

    def token(self, meeting_id: int, fmt: str, locale: str) -> str:
        return self._serializer.dumps({"m": meeting_id, "f": fmt, "l": locale})

    def draft_url(self, meeting_id: int, fmt: str, locale: str) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url}/drafts/{self.token(meeting_id, fmt, locale)}"

    def read(self, token: str) -> DraftToken | None:
        """The token's content, or None when it is forged, malformed or expired."""
        try:
            data = self._serializer.loads(token, max_age=self.ttl_seconds)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        meeting_id, fmt, locale = data.get("m"), data.get("f"), data.get("l")
        if not isinstance(meeting_id, int) or fmt not in FORMATS or not isinstance(locale, str):
            return None
        return DraftToken(meeting_id, fmt, locale)
