"""Member text is kept as written and made inert in every output; these are the shared rules."""

from __future__ import annotations

import re
import unicodedata

_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~!&])")
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))
_BIDI = dict.fromkeys([0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069])


def clean(text: str) -> str:
    """Normalise to NFC, unify line ends, drop control and bidi-override characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROL).translate(_BIDI)


# Characters that show nothing although they are not whitespace to str.strip(): the Braille
# blank and the Hangul fillers that some clients use to post "empty" messages.
_BLANK_LOOKALIKES = frozenset("\u2800\u3164\u115f\u1160\uffa0")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def is_blank(text: str) -> bool:
    """Nothing a reader would see: whitespace, zero-width and format characters (ZWSP, BOM,
    word joiner), non-breaking spaces, lone combining marks. Such an entry is no entry."""
    return all(
        ch.isspace() or ch in _BLANK_LOOKALIKES or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
        for ch in text
    )


def escape_markdown_inline(text: str) -> str:
    """Escape every Markdown/HTML control character so the text renders literally."""
    return _MD_INLINE.sub(r"\\\1", text)


def one_line(text: str, limit: int = 80) -> str:
    """A single-line preview for chat confirmations."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
