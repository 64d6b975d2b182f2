"""Generate templates/referat/referat.docx: the Word styles the referat draft is written with.

The renderer (handlers/referat/docx.py) opens this file and writes the referat into it using
its styles only, so a secretariat can restyle the minutes in Word (fonts, colours, spacing of
"Overskrift 1", the attendance table, the draft box) by editing this file, without code.
Run again after changing it here:  .venv/bin/python tools/make_docx_template.py
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle

OUT = Path(__file__).resolve().parent.parent / "templates" / "referat" / "referat.docx"
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
INK = RGBColor(0x1D, 0x1D, 0x1F)
WARN = RGBColor(0xB3, 0x26, 0x1E)
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entry times, so regenerating gives the same bytes


def _set_lang(element_rpr: object, lang: str = "nb-NO") -> None:
    rpr = element_rpr
    lang_el = rpr.find(qn("w:lang"))  # type: ignore[attr-defined]
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)  # type: ignore[attr-defined]
    lang_el.set(qn("w:val"), lang)


def _doc_defaults(doc: DocumentObject) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_lang(rpr)


def _style(doc: DocumentObject, name: str, kind: WD_STYLE_TYPE, base: str | None = None) -> Any:
    """The named style, created if the default template lacks it (Any: paragraph or character)."""
    try:
        return doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, kind)
        if base:
            style.base_style = doc.styles[base]
        style.quick_style = True
        return style


def _named(doc: DocumentObject, name: str) -> ParagraphStyle:
    return cast(ParagraphStyle, doc.styles[name])


def _border(ppr: object, color: str = "C79A00") -> None:
    bdr = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "dashed")
        el.set(qn("w:sz"), "12")
        el.set(qn("w:space"), "6")
        el.set(qn("w:color"), color)
        bdr.append(el)
    ppr.append(bdr)  # type: ignore[attr-defined]


def _shade(ppr: object, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    ppr.append(shd)  # type: ignore[attr-defined]


def _page_number_footer(doc: DocumentObject) -> None:
    footer = doc.sections[0].footer
    para = footer.paragraphs[0]
    para.style = doc.styles["Footer"]
    run = para.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)


def build() -> bytes:
    doc = Document()
    _doc_defaults(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)

    normal = _named(doc, "Normal")
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    normal.font.color.rgb = INK
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1

    title = _named(doc, "Title")
    title.font.name = "Calibri Light"
    title.font.size = Pt(22)
    title.font.color.rgb = ACCENT
    title.font.bold = False
    title.paragraph_format.space_after = Pt(12)

    for name, size in (("Heading 1", 15), ("Heading 2", 13), ("Heading 3", 11.5)):
        heading = _named(doc, name)
        heading.font.name = "Calibri"
        heading.font.size = Pt(size)
        heading.font.bold = True
        heading.font.color.rgb = ACCENT if name != "Heading 3" else INK
        heading.paragraph_format.space_before = Pt(18 if name == "Heading 1" else 12)
        heading.paragraph_format.space_after = Pt(4)
        heading.paragraph_format.keep_with_next = True

    draft = _style(doc, "Utkast", WD_STYLE_TYPE.PARAGRAPH, "Normal")
    draft.font.bold = True
    draft.font.size = Pt(12)
    draft.font.color.rgb = WARN
    draft.paragraph_format.space_after = Pt(2)

    compiled = _style(doc, "Sammenstilt", WD_STYLE_TYPE.PARAGRAPH, "Normal")
    compiled.font.italic = True
    compiled.font.size = Pt(9.5)
    compiled.font.color.rgb = RGBColor(0x5B, 0x5B, 0x66)

    meta = _style(doc, "Møtedata", WD_STYLE_TYPE.PARAGRAPH, "Normal")
    meta.paragraph_format.space_after = Pt(2)

    box = _style(doc, "Sekretariatsboks", WD_STYLE_TYPE.PARAGRAPH, "Normal")
    ppr = box.element.get_or_add_pPr()
    _border(ppr)  # first, on an empty pPr: python-docx then inserts the rest in schema order
    _shade(ppr, "FFF6D6")
    box.font.size = Pt(10)
    box.paragraph_format.left_indent = Cm(0.2)
    box.paragraph_format.right_indent = Cm(0.2)
    box.paragraph_format.space_after = Pt(0)

    box_title = _style(doc, "Sekretariatsboks tittel", WD_STYLE_TYPE.PARAGRAPH, "Sekretariatsboks")
    box_title.font.bold = True
    box_title.paragraph_format.keep_with_next = True

    entry = _style(doc, "Innleggshode", WD_STYLE_TYPE.PARAGRAPH, "Normal")
    entry.font.bold = True
    entry.paragraph_format.space_before = Pt(10)
    entry.paragraph_format.space_after = Pt(2)
    entry.paragraph_format.keep_with_next = True

    for level, indent in ((1, 0.63), (2, 1.27), (3, 1.9)):
        name = "Nummerert liste" if level == 1 else f"Nummerert liste {level}"
        numbered = _style(doc, name, WD_STYLE_TYPE.PARAGRAPH, "Normal")
        numbered.paragraph_format.left_indent = Cm(indent)
        numbered.paragraph_format.first_line_indent = Cm(-0.63)
        numbered.paragraph_format.space_after = Pt(2)
        tabs = numbered.paragraph_format.tab_stops
        tabs.add_tab_stop(Cm(indent))

    for name in ("List Bullet", "List Bullet 2", "List Bullet 3"):
        _named(doc, name).paragraph_format.space_after = Pt(2)

    details = _style(doc, "Detaljer", WD_STYLE_TYPE.CHARACTER)
    details.font.italic = True
    details.font.color.rgb = RGBColor(0x5B, 0x5B, 0x66)

    placeholder = _style(doc, "Plassholder", WD_STYLE_TYPE.CHARACTER)
    placeholder.font.italic = True
    placeholder.font.highlight_color = WD_COLOR_INDEX.YELLOW

    label = _style(doc, "Etikett", WD_STYLE_TYPE.CHARACTER)
    label.font.bold = True

    link = _style(doc, "Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = ACCENT
    link.font.underline = True

    _page_number_footer(doc)

    intro = doc.add_paragraph(
        "Mal for referatutkast fra Referent. Referent bruker bare stilene i denne filen "
        "(Tittel, Overskrift 1–3, Utkast, Sammenstilt, Møtedata, Sekretariatsboks, Innleggshode, "
        "Nummerert liste, Punktliste, Plassholder, Etikett, Detaljer og tabellstilen Table Grid); "
        "innholdet her erstattes når referatet lages. Endre stilene for å endre utseendet."
    )
    intro.style = doc.styles["Normal"]

    props = doc.core_properties
    props.title = "Referat – mal"
    props.author = "Referent"
    props.last_modified_by = "Referent"
    props.language = "nb-NO"
    props.created = props.modified = datetime(*FIXED_TIME, tzinfo=UTC).replace(tzinfo=None)
    props.revision = 1

    buffer = io.BytesIO()
    doc.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the zip with fixed entry times and order, so the committed file is reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def main() -> int:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
