"""One line of an invitation with its Markdown (or Word) dress taken off.

The house format is Markdown-ish text pasted from Word: headings (`#### 4. Runde …`), bullets
(`- 1. Godkjenning …**`), bold lead-ins (`**Sak 3. Handlingsprogram 2025.** Et av …`) and links.
The parser works on what is left, and on a few flags saying what the dress was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.invitation.model import Location
from handlers.text import clean

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^[-*+•▪◦–]\s+")
_LEAD_BOLD = re.compile(r"^(\*\*|__)(?P<bold>.+?)\1[\s:]*(?P<rest>.*)$")
_MD_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]*)\)")
_ANGLE_URL = re.compile(r"<(?P<url>https?://[^>\s]+)>")
_EMPHASIS = re.compile(r"\*\*|__")
_EDGE_STARS = re.compile(r"^[*_]+|[*_]+$")


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A line as the file holds it. `list_number` is a Word list item's position (level 0),
    `list_level` its nesting (0 at the top), both None outside Word lists."""

    where: Location
    raw: str
    list_number: int | None = None
    list_level: int | None = None


@dataclass(frozen=True, slots=True)
class Plain:
    """A line without its markup: `text` is the whole line, `lead`/`rest` the bold lead-in and
    what follows it (when the line starts with bold)."""

    text: str
    indent: int
    heading: bool
    bullet: bool
    lead: str | None
    rest: str

    @property
    def blank(self) -> bool:
        return not self.text


def strip_inline(text: str) -> str:
    """Links to their text, `<url>` to the URL, emphasis marks dropped, spaces collapsed."""
    text = _MD_LINK.sub(lambda m: m["text"], text)
    text = _ANGLE_URL.sub(lambda m: m["url"], text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.split())
    return _EDGE_STARS.sub("", text).strip()


def plain(line: SourceLine) -> Plain:
    raw = clean(line.raw)
    indent = len(raw[: len(raw) - len(raw.lstrip())].expandtabs(4))
    text = raw.strip()
    heading = bool(_HEADING.match(text))
    text = _HEADING.sub("", text)
    bullet = bool(_BULLET.match(text))
    text = _BULLET.sub("", text)
    if line.list_level is not None:
        bullet = bullet or line.list_number is None
        indent = max(indent, 2 * line.list_level)
    lead_match = _LEAD_BOLD.match(text.strip())
    lead = strip_inline(lead_match["bold"]) if lead_match else None
    rest = strip_inline(lead_match["rest"]) if lead_match else ""
    return Plain(strip_inline(text), indent, heading, bullet, lead, rest)


def links_in(raw: str) -> list[tuple[str, str]]:
    """(text, url) for every Markdown link and bare http(s) URL in a line."""
    found: list[tuple[str, str]] = [(m["text"].strip(), m["url"]) for m in _MD_LINK.finditer(raw)]
    rest = _MD_LINK.sub(" ", raw)
    for match in re.finditer(r"https?://[^\s<>()\"']+", rest):
        found.append(("", match.group(0).rstrip(".,;:")))
    return [(text, url) for text, url in found if url.startswith(("http://", "https://"))]
