"""Pick the parser by file name: .docx through python-docx, .txt and .md as text."""

from __future__ import annotations

from pathlib import PurePath

from handlers.invitation.model import Invitation
from handlers.invitation.parse_docx import parse_docx
from handlers.invitation.parse_text import decode, parse_text

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUFFIXES = (*TEXT_SUFFIXES, ".docx")


def supported(name: str) -> bool:
    return PurePath(name).suffix.lower() in SUFFIXES


def parse_upload(name: str, data: bytes, *, group_name: str | None = None, lang: str = "nb") -> Invitation:
    """Parse a file's bytes (a CLI file, a Slack file share, a Teams attachment) by its name."""
    if PurePath(name).suffix.lower() == ".docx":
        return parse_docx(data, group_name=group_name, lang=lang)
    return parse_text(decode(data), group_name=group_name, lang=lang)
