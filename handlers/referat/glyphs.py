"""Text the PDF's fonts can draw: characters outside them are named, never left out or boxed.

PDF/A forbids a glyph the embedded font does not have, and Typst refuses to write such a file, so
one emoji in one round-table entry would otherwise cost the whole PDF. The shipped DejaVu Sans
faces cover Latin, Greek, Cyrillic and most symbols; for anything else (most emoji, runes, CJK)
the PDF says what was there: an emoji by its name, "[party popper]" (CLDR's English short name;
there is no Norwegian list in the `emoji` library), anything else as U+FFFD. Markdown, HTML and
Word keep the characters themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import emoji
from fontTools.ttLib import TTFont

REPLACEMENT = "\ufffd"


def _ranges(codepoints: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(codepoints):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _invisible() -> set[int]:
    """Format characters (joiners, bidi marks, soft hyphen, tags) and variation selectors: Typst
    draws them as nothing, so they never need a glyph."""
    format_chars = {cp for cp in range(0x10000) if unicodedata.category(chr(cp)) == "Cf"}
    return format_chars | set(range(0xE0000, 0xE0080)) | set(range(0xFE00, 0xFE10))


@lru_cache(maxsize=4)
def uncovered_pattern(font_dir: Path) -> re.Pattern[str]:
    """A regex matching any character that some shipped face lacks (so bold and italic are safe too)."""
    faces = sorted(font_dir.glob("*.ttf"))
    if not faces:
        raise FileNotFoundError(f"no .ttf fonts in {font_dir}")
    cmaps: list[set[int]] = []
    for face in faces:
        with TTFont(face, lazy=True) as font:
            cmaps.append(set(font.getBestCmap()))
    covered = set.intersection(*cmaps) | _invisible() | {0x09, 0x0A}
    parts = "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in _ranges(covered)
    )
    return re.compile(f"[^{parts}]")


def _emoji_name(chars: str, data: dict[str, str]) -> str:
    name = str(data.get("en", "")).strip(":").replace("_", " ")
    return f"[{name}]" if name else REPLACEMENT


def printable(text: str, uncovered: re.Pattern[str]) -> str:
    """`text` with every character the fonts lack named (emoji) or replaced (the rest)."""
    if uncovered.search(text) is None:  # the usual case, at C speed
        return text

    def name_if_needed(chars: str, data: dict[str, str]) -> str:
        return chars if uncovered.search(chars) is None else _emoji_name(chars, data)

    named = emoji.replace_emoji(text, replace=name_if_needed)
    return uncovered.sub(REPLACEMENT, named)
