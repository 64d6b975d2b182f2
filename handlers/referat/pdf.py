"""The referat as a tagged PDF/A-2a, typeset by Typst from the same view-model as the other formats.

Why Typst and not an HTML engine laying out the HTML page: it typesets a 500-member referat
(116 pages) in about a second where WeasyPrint took 12.7 s, and it checks the
PDF/A-2a rules itself while writing (it refuses to produce a file that breaks them). The layout
is data, in templates/referat/referat.typ; the view goes in as JSON, so every name, title and
member text is placed as text and nothing is ever read as markup. Fonts are the DejaVu Sans files
shipped in templates/referat/fonts/ (and Typst's own DejaVu Sans Mono for code), with the
machine's fonts ignored, so the file never depends on what the machine has.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from handlers.referat.glyphs import printable, uncovered_pattern
from handlers.referat.view import ReferatView
from handlers.richtext.model import ItemList, ListItem

PDF_STANDARD = "a-2a"
TIMEOUT_S = 120  # a 500-member referat takes about a second
LANG_TAGS = {"nb": "nb-NO", "en": "en-GB"}
_REGIONS = {"nb": "NO", "en": "GB"}
_LEFT_OUT = frozenset({"draft_box", "compiled_at", "filename_stem"})  # not on paper / not text


@lru_cache(maxsize=1)
def _assets() -> Path:
    """templates/referat on disk: the Typst template and the fonts beside it."""
    return Path(str(resources.files("templates").joinpath("referat")))


class PdfError(RuntimeError):
    """Typst refused or failed to write the PDF (its message says why)."""


def pdf_title(view: ReferatView) -> str:
    """The document title, the same as the HTML page's and the Word file's."""
    return f"{view.draft_mark}: {view.title}"


def _number(item: ListItem) -> int | None:
    """The number a member typed ("3." or "3)"), kept; None for a bullet or a letter."""
    digits = (item.marker or "").rstrip(".)")
    return int(digits) if digits.isdigit() else None


def _plain(value: Any, text: Callable[[str], str]) -> Any:
    """The view as JSON-ready values: dataclasses as objects (with the rich-text node's kind), and
    every string passed through `text`."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, ListItem):
        return {
            "content": _plain(value.content, text),
            "number": _number(value),
            "children": _plain(value.children, text),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value) if f.name not in _LEFT_OUT]
        out: dict[str, Any] = {name: _plain(getattr(value, name), text) for name in names}
        kind = getattr(value, "kind", None)
        if isinstance(kind, str):
            out["kind"] = kind
        if isinstance(value, ItemList):
            out["start"] = value.start
        return out
    if isinstance(value, tuple | list):
        return [_plain(v, text) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, text) for k, v in value.items()}
    return value


def view_json(view: ReferatView) -> str:
    """What the Typst template reads: the view without the secretariat's box, plus its region;
    characters the fonts lack are named (see glyphs.py)."""
    uncovered = uncovered_pattern(_assets() / "fonts")
    data = _plain(view, lambda s: printable(s, uncovered))
    data["region"] = _REGIONS.get(view.lang, "NO")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render_pdf(view: ReferatView) -> bytes:
    """The draft as PDF/A-2a bytes: tagged, with /Lang, the title in Info and XMP, fonts embedded.

    Typeset in a child process (see typst_child.py for why). The compile time is the document's
    date, so the same draft gives the same bytes.
    """
    stamp = int(view.compiled_at.astimezone(UTC).timestamp())
    command = [
        sys.executable,
        "-I",  # isolated: only the interpreter's own site-packages, no PYTHON* variables
        str(Path(__file__).with_name("typst_child.py")),
        str(_assets() / "referat.typ"),
        str(_assets() / "fonts"),
        PDF_STANDARD,
        str(stamp),
    ]
    done = subprocess.run(  # our own interpreter and script, no shell
        command, input=view_json(view).encode("utf-8"), capture_output=True, timeout=TIMEOUT_S, check=False
    )
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise PdfError(f"Typst could not write the referat PDF: {message}")
    return done.stdout
