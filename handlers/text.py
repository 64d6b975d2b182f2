"""Member text is kept as written and made inert in every output; these are the shared rules."""

from __future__ import annotations

import re
import unicodedata

# Bullets members type; kept as list items rather than escaped.
_BULLET = re.compile(r"^(\s*)([-*•·–]|\d{1,3}[.)])\s+(.*)$")
_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))
_BIDI = dict.fromkeys([0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069])


def clean(text: str) -> str:
    """Normalise to NFC, unify line ends, drop control and bidi-override characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROL).translate(_BIDI)


def escape_markdown_inline(text: str) -> str:
    """Escape every Markdown/HTML control character so the text renders literally."""
    return _MD_INLINE.sub(r"\\\1", text)


def escape_markdown_block(text: str) -> str:
    """Escape member text for a Markdown document, keeping its paragraphs and bullet lists.

    A line that starts with a bullet (`-`, `*`, `•`, `1.`) stays a list item; everything else is
    escaped, so `**`, `<script>`, `[x](y)` and `# heading` come out as typed.
    """
    out: list[str] = []
    for line in clean(text).split("\n"):
        match = _BULLET.match(line)
        if match:
            indent, marker, rest = match.groups()
            level = "  " * max(1, min(len(indent.expandtabs(2)) // 2, 4)) if indent else ""
            marker = marker if marker[0].isdigit() else "-"
            marker = marker.replace(")", ".")
            out.append(f"{level}{marker} {escape_markdown_inline(rest)}")
        else:
            stripped = line.strip()
            out.append(escape_markdown_inline(stripped))
    return "\n".join(out)


def one_line(text: str, limit: int = 80) -> str:
    """A single-line preview for chat confirmations."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def paragraphs(text: str) -> list[list[str]]:
    """Split text into paragraphs (blank-line separated) of lines, for HTML and Word output."""
    result: list[list[str]] = []
    current: list[str] = []
    for line in clean(text).split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            result.append(current)
            current = []
    if current:
        result.append(current)
    return result


def bullet_of(line: str) -> tuple[int, str] | None:
    """(indent level, text) when the line is a bullet item, else None."""
    match = _BULLET.match(line)
    if not match:
        return None
    indent = len(match.group(1).expandtabs(2))
    return (min(indent // 2, 4), match.group(3))
