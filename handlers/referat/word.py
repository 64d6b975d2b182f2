"""The referat draft as a Word document, written into the styles of templates/referat/referat.docx.

Why python-docx and not a docxtpl template: member text arrives as paragraphs and nested bullet
or numbered lists, and docxtpl cannot choose a paragraph style per generated paragraph without
sub-documents (slow, and they lose the template's list styles). So the .docx template holds the
*styles* (the part a secretariat restyles in Word) and this module writes the body from the
view-model. The body is written as WordprocessingML text and parsed once, which keeps a 500-member referat
well under the time budget; all text goes in XML-escaped as `w:t` runs, so nothing a member
writes can become markup. Member formatting (bold, italic, strike, code) becomes run properties
and links become real `w:hyperlink` elements with their own relationship, from the rich-text
tree (handlers.richtext), never from the characters typed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from datetime import UTC
from functools import lru_cache
from importlib import resources
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from handlers.referat.blocks import CodeBlock, ItemList, Para, Text
from handlers.referat.view import Entry, FollowUpView, ItemView, ReferatView, RoundTableView
from handlers.richtext.model import Code, Inline, Line, Link, Mention, Styled
from handlers.richtext.model import Text as TextNode

# Styles by name as they appear in the template (Word shows localised names for built-ins).
STYLE_NAMES = (
    "Title",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "Normal",
    "Utkast",
    "Sammenstilt",
    "Møtedata",
    "Sekretariatsboks",
    "Sekretariatsboks tittel",
    "Innleggshode",
    "List Bullet",
    "List Bullet 2",
    "List Bullet 3",
    "List Number",
    "List Number 2",
    "List Number 3",
    "Nummerert liste",
    "Nummerert liste 2",
    "Nummerert liste 3",
    "Plassholder",
    "Etikett",
    "Detaljer",
    "Hyperlink",
    "Table Grid",
)
_LANG = {"nb": "nb-NO", "en": "en-GB"}


@lru_cache(maxsize=1)
def _template_bytes() -> bytes:
    return resources.files("templates").joinpath("referat", "referat.docx").read_bytes()


# --- XML helpers -----------------------------------------------------------------------------
# The body is written as WordprocessingML text and parsed once: building tens of thousands of
# elements one by one through python-docx costs more than the whole rest of the render. Every
# piece of text passes through _esc (XML escaping); nothing else reaches the XML unescaped.

Xml = str  # a fragment of WordprocessingML (runs, paragraphs, a table)
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_ESCAPES = {'"': "&quot;"}


def _esc(text: str) -> str:
    return escape(_NOT_XML_CHARS.sub("", text))


def _attr(value: str) -> str:
    return escape(_NOT_XML_CHARS.sub("", value), _ATTR_ESCAPES)


def _t(text: str) -> Xml:
    return f'<w:t xml:space="preserve">{_esc(text)}</w:t>' if text else ""


class _Writer:
    """Collects the body's paragraphs and tables, using the template's style ids."""

    def __init__(self, doc: DocumentObject) -> None:
        self.doc = doc
        self.parts: list[Xml] = []
        self.ids: dict[str, str] = {}
        for name in STYLE_NAMES:
            try:
                self.ids[name] = _attr(doc.styles[name].style_id)
            except KeyError:  # a restyled template without it: fall back to the default style
                continue
        self._numbering = doc.part.numbering_part.element
        self._ordered = self._ordered_definitions()
        used = [int(n) for n in self._numbering.xpath("./w:num/@w:numId")]
        self._next_num_id = max(used, default=0) + 1

    # numbered lists

    def _ordered_definitions(self) -> dict[int, tuple[str, str]]:
        """Depth → (style id, abstract numbering id) of the template's "List Number" styles, so
        numbered items are real Word lists (a screen reader announces them as such)."""
        found: dict[int, tuple[str, str]] = {}
        for depth, name in enumerate(("List Number", "List Number 2", "List Number 3"), start=1):
            if name not in self.ids:
                continue
            num_id = self.doc.styles[name].element.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
            if num_id is None:
                continue
            abstract = self._numbering.xpath(f'./w:num[@w:numId="{num_id.get(qn("w:val"))}"]/w:abstractNumId')
            if abstract:
                found[depth] = (self.ids[name], _attr(abstract[0].get(qn("w:val"))))
        return found

    def new_numbered_list(self, depth: int, start: int) -> str | None:
        """A fresh numbering instance that starts at `start`: each list counts on its own."""
        definition = self._ordered.get(depth)
        if definition is None:
            return None
        num_id = str(self._next_num_id)
        self._next_num_id += 1
        num = parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{definition[1]}"/>'
            f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="{max(start, 0)}"/></w:lvlOverride></w:num>'
        )
        self._numbering._insert_num(num)
        return num_id

    def numbered_para(self, depth: int, num_id: str, *runs: Xml) -> None:
        style_id = self._ordered[depth][0]
        self.parts.append(
            f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/><w:numPr><w:ilvl w:val="0"/>'
            f'<w:numId w:val="{num_id}"/></w:numPr></w:pPr>{"".join(runs)}</w:p>'
        )

    # runs

    def run(self, text: str, *, style: str | None = None, bold: bool = False, italic: bool = False) -> Xml:
        props = ""
        if style and style in self.ids:
            props += f'<w:rStyle w:val="{self.ids[style]}"/>'
        if bold:
            props += "<w:b/>"
        if italic:
            props += "<w:i/>"
        body = "<w:tab/>".join(_t(piece) for piece in text.split("\t"))
        return f"<w:r><w:rPr>{props}</w:rPr>{body}</w:r>" if props else f"<w:r>{body}</w:r>"

    def lines_run(self, lines: Iterable[str]) -> Xml:
        """One run holding several lines with hard breaks between them (as the member typed)."""
        return "<w:r>" + "<w:br/>".join(_t(line.replace("\t", " ")) for line in lines) + "</w:r>"

    def inline(
        self, nodes: Iterable[Inline], fmt: frozenset[str] = frozenset(), *, linked: bool = False
    ) -> Xml:
        """Member inline nodes as runs: formatting as run properties, links as w:hyperlink."""
        out: list[Xml] = []
        for node in nodes:
            if isinstance(node, TextNode | Mention):
                out.append(self._fmt_run(node.text if isinstance(node, TextNode) else node.name, fmt, linked))
            elif isinstance(node, Code):
                out.append(self._fmt_run(node.text, fmt | {"code"}, linked))
            elif isinstance(node, Styled):
                out.append(self.inline(node.children, fmt | {node.style}, linked=linked))
            elif isinstance(node, Link):
                if linked:
                    out.append(self.inline(node.children, fmt, linked=True))
                    continue
                r_id = self.doc.part.relate_to(node.url, RT.HYPERLINK, is_external=True)
                runs = self.inline(node.children, fmt, linked=True)
                out.append(f'<w:hyperlink r:id="{_attr(r_id)}">{runs}</w:hyperlink>')
        return "".join(out)

    def _fmt_run(self, text: str, fmt: frozenset[str], linked: bool) -> Xml:
        props = ""
        if linked and "Hyperlink" in self.ids:
            props += f'<w:rStyle w:val="{self.ids["Hyperlink"]}"/>'
        if "code" in fmt:
            props += '<w:rFonts w:ascii="Consolas" w:hAnsi="Consolas" w:cs="Consolas"/>'
        if "bold" in fmt:
            props += "<w:b/>"
        if "italic" in fmt:
            props += "<w:i/>"
        if "strike" in fmt:
            props += "<w:strike/>"
        body = _t(text.replace("\t", " ").replace("\n", " "))
        if not body:
            return ""
        return f"<w:r><w:rPr>{props}</w:rPr>{body}</w:r>" if props else f"<w:r>{body}</w:r>"

    def lines(self, lines: Iterable[Line]) -> Xml:
        """Several lines of inline nodes with hard breaks between them."""
        return "<w:r><w:br/></w:r>".join(self.inline(line) for line in lines)

    def para(self, style: str | None, *runs: Xml, keep_next: bool = False, space_before: int = 0) -> Xml:
        """A paragraph; `space_before` (twentieths of a point) instead of an empty paragraph, which
        a screen reader would announce as "blank"."""
        props = ""
        if style and style in self.ids:
            props += f'<w:pStyle w:val="{self.ids[style]}"/>'
        if keep_next:
            props += "<w:keepNext/>"
        if space_before:
            props += f'<w:spacing w:before="{space_before}"/>'
        ppr = f"<w:pPr>{props}</w:pPr>" if props else ""
        return f"<w:p>{ppr}{''.join(runs)}</w:p>"

    def p(self, style: str | None, *runs: Xml, keep_next: bool = False, space_before: int = 0) -> None:
        self.parts.append(self.para(style, *runs, keep_next=keep_next, space_before=space_before))

    def text(self, style: str | None, text: str, *, space_before: int = 0) -> None:
        self.p(style, self.run(text), space_before=space_before)

    def placeholder(self, text: str, style: str | None = "Normal") -> None:
        self.p(style, self.run(text, style="Plassholder", italic="Plassholder" not in self.ids))

    def labelled(self, label: str, *runs: Xml, style: str | None = "Møtedata") -> None:
        self.p(style, self.run(f"{label}: ", style="Etikett", bold="Etikett" not in self.ids), *runs)

    def hyperlink(self, url: str) -> Xml:
        r_id = self.doc.part.relate_to(url, RT.HYPERLINK, is_external=True)
        return f'<w:hyperlink r:id="{_attr(r_id)}">{self.run(url, style="Hyperlink")}</w:hyperlink>'

    # member text

    def blocks(self, text: Text) -> None:
        for block in text:
            if isinstance(block, Para):
                self.p("Normal", self.lines(block.lines))
            elif isinstance(block, CodeBlock):
                code = self.lines_run(block.text.split("\n"))
                font = '<w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas" w:cs="Consolas"/></w:rPr>'
                self.p("Normal", code.replace("<w:r>", "<w:r>" + font, 1))
            else:
                self._list(block, 1)

    def _list(self, lst: ItemList, level: int) -> None:
        depth = min(level, 3)
        num_id: str | None = None
        expected = lst.start
        for item in lst.items:
            number = int(item.marker.rstrip(".)")) if item.marker and item.marker[:-1].isdigit() else None
            # a number out of sequence ("1. … 7. …") starts a new count at what was typed
            current = num_id if number is not None and number == expected else None
            if number is not None and current is None:
                current = self.new_numbered_list(depth, number)  # None: no numbered style here
            if number is not None and current is not None:
                num_id, expected = current, number + 1
                self.numbered_para(depth, current, self.inline(item.content))
            elif item.marker:  # a template without numbered list styles: the number as typed
                style = "Nummerert liste" if depth == 1 else f"Nummerert liste {depth}"
                self.p(style, self.run(f"{item.marker}\t"), self.inline(item.content))
            else:
                style = "List Bullet" if depth == 1 else f"List Bullet {depth}"
                self.p(style, self.inline(item.content))
            for child in item.children:
                self._list(child, level + 1)

    # table

    def table(self, header: tuple[str, str], rows: Iterable[tuple[list[Xml], list[Xml]]]) -> None:
        """A two-column table (name, organisation) whose header row repeats on every page."""
        style = f'<w:tblStyle w:val="{self.ids["Table Grid"]}"/>' if "Table Grid" in self.ids else ""
        out = [
            f'<w:tbl><w:tblPr>{style}<w:tblW w:w="5000" w:type="pct"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
            'w:noHBand="0" w:noVBand="1"/></w:tblPr>'
            '<w:tblGrid><w:gridCol w:w="4800"/><w:gridCol w:w="4200"/></w:tblGrid>'
        ]

        def row(cells: tuple[list[Xml], list[Xml]], is_header: bool) -> None:
            tr_pr = "<w:cantSplit/><w:tblHeader/>" if is_header else "<w:cantSplit/>"
            out.append(f"<w:tr><w:trPr>{tr_pr}</w:trPr>")
            for pct, runs in zip(("2667", "2333"), cells, strict=True):
                out.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="{pct}" w:type="pct"/></w:tcPr>{self.para(None, *runs)}</w:tc>'
                )
            out.append("</w:tr>")

        row(([self.run(header[0], bold=True)], [self.run(header[1], bold=True)]), True)
        for cells in rows:
            row(cells, False)
        out.append("</w:tbl>")
        self.parts.append("".join(out))
        self.p("Normal")  # Word needs a paragraph between a table and what follows

    def finish(self) -> None:
        """Replace the template's sample body with ours, keeping its page setup (sectPr)."""
        body = self.doc.element.body
        sect_pr = body.find(qn("w:sectPr"))
        for child in list(body):
            body.remove(child)
        parsed = parse_xml(f"<w:body {nsdecls('w', 'r')}>{''.join(self.parts)}</w:body>")
        body.extend(list(parsed))
        if sect_pr is not None:
            body.append(sect_pr)


# --- the document ----------------------------------------------------------------------------


def _entry(w: _Writer, entry: Entry) -> None:
    w.p("Innleggshode", w.run(entry.heading))
    w.blocks(entry.text)


def _item_body(w: _Writer, v: ReferatView, item: ItemView) -> None:
    labels = v.labels
    if item.presenter:
        w.text("Normal", item.presenter)
    if item.fixed:
        w.text("Normal", item.fixed)
    if item.notes:
        w.blocks(item.notes)
    elif item.notes_placeholder:
        w.placeholder(item.notes_placeholder)
    if item.decision:
        w.p(
            "Normal",
            w.run(f"{labels['decision']}:", style="Etikett", bold="Etikett" not in w.ids),
            keep_next=True,
        )
        w.blocks(item.decision)
    elif item.decision_placeholder:
        w.labelled(labels["decision"], w.run(item.decision_placeholder, style="Plassholder"), style="Normal")
    for entry in item.inputs:
        _entry(w, entry)
    if item.follow_up_ref:
        w.p("Normal", w.run(item.follow_up_ref, style="Detaljer"))


def _round_table(w: _Writer, v: ReferatView, rt: RoundTableView) -> None:
    if rt.theme:
        w.labelled(v.labels["round_theme"], w.run(rt.theme, italic=True), style="Normal")
    if rt.question:
        w.labelled(v.labels["round_question"], w.run(rt.question, italic=True), style="Normal")
    for entry in rt.entries:
        _entry(w, entry)
    if rt.placeholder:
        w.placeholder(rt.placeholder)


def _header(w: _Writer, v: ReferatView) -> None:
    labels = v.labels
    w.text("Title", v.title)
    w.p("Utkast", w.run(v.draft_mark))
    w.text("Sammenstilt", v.compiled)
    if v.subtitle:
        w.text("Heading 3", v.subtitle)
    w.labelled(labels["time"], w.run(v.when))
    w.labelled(
        labels["place"], w.run(v.place) if v.place else w.run(labels["place_missing"], style="Plassholder")
    )
    if v.papers_url and v.papers_is_link:
        w.labelled(labels["papers"], w.hyperlink(v.papers_url))
    elif v.papers_url:
        w.labelled(labels["papers"], w.run(v.papers_url))
    else:
        w.labelled(labels["papers"], w.run(labels["papers_missing"], style="Plassholder"))


def _draft_box(w: _Writer, v: ReferatView) -> None:
    box = v.draft_box
    if box is None:
        return
    w.text("Sekretariatsboks tittel", box.title, space_before=240)
    w.text("Sekretariatsboks", box.summary)
    if box.missing:
        w.text("Sekretariatsboks", ", ".join(box.missing))
    if box.unreachable:
        w.text("Sekretariatsboks", box.unreachable_title)
        for person in box.unreachable:
            w.text("Sekretariatsboks", f"{person.name}: {person.why}")
    w.text("Sekretariatsboks", box.deadline)


def _attendance(w: _Writer, v: ReferatView) -> None:
    labels, att = v.labels, v.attendance
    w.text("Heading 1", labels["attendance"])
    rows: list[tuple[list[Xml], list[Xml]]] = []
    for person in att.present:
        name_runs = [w.run(person.name)]
        if person.note:
            name_runs.append(w.run(f" ({person.note})", style="Detaljer"))
        org_run = w.run(person.organisation, style="Plassholder" if person.organisation_missing else None)
        rows.append((name_runs, [org_run]))
    if att.present_placeholder:
        rows.append(([w.run(att.present_placeholder, style="Plassholder")], []))
    w.table((labels["col_name"], labels["col_org"]), rows)

    def line(label: str, value: str | None, placeholder: str | None) -> None:
        if value:
            w.labelled(label, w.run(value), style="Normal")
        elif placeholder:
            w.labelled(label, w.run(placeholder, style="Plassholder"), style="Normal")

    line(labels["chair"], att.chair, att.chair_placeholder)
    line(labels["secretariat"], ", ".join(att.secretariat), att.secretariat_placeholder)
    line(labels["others"], ", ".join(att.others), None)
    line(labels["excused"], ", ".join(att.excused), None)


def _follow_up_list(w: _Writer, follow_ups: tuple[FollowUpView, ...]) -> None:
    """Follow-ups as a real numbered list of their own (the meeting's, or those carried)."""
    numbering = w.new_numbered_list(1, 1) if follow_ups else None
    for follow_up in follow_ups:
        # a numbered item "first paragraph (details)"; any further paragraphs or lists follow it
        first = follow_up.text[0] if follow_up.text else None
        lead = first if isinstance(first, Para) else None
        details_style = "Plassholder" if follow_up.owner_missing else "Detaljer"
        item_runs = (
            w.lines(lead.lines) if lead else "",
            w.run(f" ({follow_up.details})", style=details_style),
        )
        if numbering is not None:
            w.numbered_para(1, numbering, *item_runs)
        else:
            w.p("Nummerert liste", w.run(f"{follow_up.number}.\t"), *item_runs)
        w.blocks(follow_up.text[1:] if lead else follow_up.text)


def _rest(w: _Writer, v: ReferatView) -> None:
    labels = v.labels
    w.text("Heading 1", labels["agenda"])
    for item in v.agenda:
        w.text("Heading 2", item.heading)
        _item_body(w, v, item)
        if item.is_round_table:
            _round_table(w, v, v.round_table)
    if not v.round_table_in_agenda:
        w.text("Heading 1", v.round_table.heading)
        _round_table(w, v, v.round_table)

    w.text("Heading 1", labels["work_groups"])
    for intro in v.work_group_intro:
        w.text("Normal", intro)
    for group in v.work_groups:
        w.text("Heading 2", group.heading)
        runs = [
            w.run(group.responsible)
            if group.responsible
            else w.run(group.responsible_placeholder or "", style="Plassholder")
        ]
        if group.cap:
            runs.append(w.run(f" ({group.cap})", style="Detaljer"))
        w.labelled(labels["responsible"], *runs, style="Normal")
        if group.members:
            w.p(
                "Normal",
                w.run(f"{labels['signed_up']}:", style="Etikett", bold="Etikett" not in w.ids),
                keep_next=True,
            )
            for member in group.members:
                w.text("List Bullet", member)
        else:
            w.text("Normal", labels["signed_up_none"])
    if not v.work_groups:
        w.text("Normal", labels["signed_up_none"])

    w.text("Heading 1", labels["follow_ups"])
    _follow_up_list(w, v.follow_ups)
    if not v.follow_ups:
        w.text("Normal", labels["follow_ups_none"])
    if v.carried:
        w.text("Heading 1", labels["carried_follow_ups"])
        _follow_up_list(w, v.carried)

    if v.any_other is not None:
        w.text("Heading 1", v.any_other.heading)
        _item_body(w, v, v.any_other)
    if v.next_meeting:
        w.text("Normal", v.next_meeting, space_before=360)
    w.text("Normal", v.closing, space_before=0 if v.next_meeting else 360)


def render_docx(view: ReferatView) -> bytes:
    """The draft as .docx bytes."""
    doc = Document(io.BytesIO(_template_bytes()))
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    lang = (
        defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}") if defaults is not None else None
    )
    if lang is not None:
        lang.set(qn("w:val"), _LANG.get(view.lang, "nb-NO"))
    w = _Writer(doc)
    _header(w, view)
    _draft_box(w, view)
    _attendance(w, view)
    _rest(w, view)
    w.finish()

    props = doc.core_properties
    props.title = f"{view.draft_mark}: {view.title}"
    props.subject = view.when
    props.author = "Referent"
    props.last_modified_by = "Referent"
    props.language = _LANG.get(view.lang, "nb-NO")
    props.keywords = "referat"
    stamp = view.compiled_at.astimezone(UTC).replace(tzinfo=None)  # same input, same document
    props.created = props.modified = stamp
    props.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return _with_fixed_times(out.getvalue(), stamp.timetuple()[:6])


def _with_fixed_times(package: bytes, when: tuple[int, ...]) -> bytes:
    """The same package with every zip entry dated `when`: python-docx stamps entries with the
    current time, and an archive's checksum should not change with the second it was made."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=when)  # type: ignore[arg-type]
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = entry.external_attr
            target.writestr(fixed, source.read(entry))
    return out.getvalue()
