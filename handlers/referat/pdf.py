"""The referat as a tagged PDF/A-2a, rendered by WeasyPrint from the accessible HTML page.

Why from the HTML: the page already has the structure an archive and a screen reader need
(one h1, headings in order, real lists, tables with header cells and a caption, a language), and
PDF/A-2a keeps that structure as PDF tags. The print stylesheet templates/referat/referat.pdf.css
adds page numbers and points every text at the DejaVu Sans files shipped in
templates/referat/fonts/, so the fonts embedded in the file never depend on the machine.
"""

from __future__ import annotations

from datetime import UTC
from functools import lru_cache
from importlib import resources
from pathlib import Path

from handlers.referat.view import ReferatView

PDF_VARIANT = "pdf/a-2a"
LANG_TAGS = {"nb": "nb-NO", "en": "en-GB"}


@lru_cache(maxsize=1)
def _assets() -> Path:
    """templates/referat on disk: the stylesheet's font URLs are resolved against it."""
    folder = resources.files("templates").joinpath("referat")
    return Path(str(folder))


@lru_cache(maxsize=1)
def _stylesheet_text() -> str:
    return (_assets() / "referat.pdf.css").read_text(encoding="utf-8")


def pdf_title(view: ReferatView) -> str:
    """The document title, the same as the HTML page's and the Word file's."""
    return f"{view.draft_mark}: {view.title}"


def render_pdf(view: ReferatView, html: str | None = None) -> bytes:
    """The draft as PDF/A-2a bytes: tagged, with /Lang, the title in Info and XMP, fonts embedded.

    `html` is the already rendered HTML page of the same view, when the caller has it.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from handlers.referat.render import render_html

    page = render_html(view) if html is None else html
    # The print stylesheet goes in as the page's last author stylesheet, so it wins over the
    # page's own rules of the same weight (stylesheets passed to WeasyPrint would rank below them).
    head_end = page.find("</head>")
    if head_end < 0:
        raise ValueError("the referat HTML page has no </head>")
    page = f"{page[:head_end]}<style>\n{_stylesheet_text()}</style>\n{page[head_end:]}"
    base_url = _assets().as_uri() + "/"
    fonts = FontConfiguration()  # one per render: WeasyPrint's font state is not shared across threads
    document = HTML(string=page, base_url=base_url).render(font_config=fonts)
    meta = document.metadata
    meta.title = pdf_title(view)
    meta.lang = LANG_TAGS.get(view.lang, "nb-NO")
    meta.authors = ["Referent"]
    meta.description = view.when
    meta.keywords = ["referat"]
    meta.generator = "Referent"
    stamp = view.compiled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # same input, same file
    meta.created = meta.modified = stamp
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, uncompressed_pdf=False)
    if pdf is None:  # WeasyPrint returns None only when given a target to write to
        raise RuntimeError("WeasyPrint wrote no PDF")
    return bytes(pdf)
