"""Read an invitation written as plain text or Markdown (.txt, .md, or text pasted in chat)."""

from __future__ import annotations

from pathlib import Path

from handlers.invitation.markup import SourceLine
from handlers.invitation.model import Invitation, Location
from handlers.invitation.reader import read_lines
from handlers.text import clean


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252 as older Word saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_text(text: str, *, group_name: str | None = None, lang: str = "nb") -> Invitation:
    """Parse the text; never raises: what cannot be read is in the result's `problems`."""
    lines = [
        SourceLine(Location("line", number), raw)
        for number, raw in enumerate(clean(text).removeprefix("\ufeff").split("\n"), start=1)
    ]
    return read_lines(lines, group_name=group_name, lang=lang)


def parse_text_file(path: Path, *, group_name: str | None = None, lang: str = "nb") -> Invitation:
    return parse_text(decode(path.read_bytes()), group_name=group_name, lang=lang)
