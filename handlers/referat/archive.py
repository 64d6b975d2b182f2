"""The archive bundle: one zip with the referat as PDF/A-2a and .docx, and metadata.json.

Why a bundle: a final referat is journalled in the body's Noark 5 archive, and today the
secretariat converts and types in the metadata by hand. The zip holds what a records officer
needs for one registry entry (journalpost) in a form any import tool can read; docs/archive.md
maps each field to its Noark 5 term. Everything comes from one view-model, so the PDF, the Word
file and the metadata cannot disagree, and the same input gives the same bytes (fixed zip times).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from handlers.referat.deadline import group_zone
from handlers.referat.pdf import LANG_TAGS, pdf_title, render_pdf
from handlers.referat.render import MIME_TYPES
from handlers.referat.view import ReferatView, build_view
from storage.models import AttendanceStatus, Role
from storage.repositories.referat import ReferatData

SCHEMA = "referent-archive/1"
METADATA_NAME = "metadata.json"
ZIP_MIME_TYPE = "application/zip"
# Noark 5 dokumentstatus: "B" (under behandling) for a draft, "F" (ferdigstilt) for the final.
STATUS_DRAFT = "utkast"
STATUS_FINAL = "endelig"


@dataclass(frozen=True, slots=True)
class ArchiveBundle:
    """The zip's bytes, its file name, and the metadata that went into it."""

    filename: str
    content: bytes
    metadata: dict[str, Any]
    mime_type: str = ZIP_MIME_TYPE


def _referent_version() -> str:
    try:
        return version("referent")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


def _file_entry(name: str, content: bytes, mime_type: str, file_format: str, variant: str) -> dict[str, Any]:
    return {
        "name": name,
        "variant": variant,
        "format": file_format,
        "mime_type": mime_type,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def _sender(data: ReferatData) -> dict[str, Any]:
    """The secretariat as the document's sender: those who attended, else the roster's
    secretariat (the same rule the referat's attendance section uses)."""
    present = {row.member_id for row in data.attendance if row.status != AttendanceStatus.EXCUSED}
    staff = [m for m in data.members.values() if m.role == Role.SECRETARIAT]
    chosen = [m for m in staff if m.id in present] or [m for m in staff if m.on_roster]
    return {
        "role": "sekretariat",
        "organisation": data.group.organisation or None,
        "persons": [{"name": m.name, "organisation": m.organisation or None} for m in chosen],
    }


def archive_metadata(
    data: ReferatData, view: ReferatView, files: list[dict[str, Any]], *, status: str = STATUS_DRAFT
) -> dict[str, Any]:
    """metadata.json as a dict: the registry entry for one referat (see docs/archive.md)."""
    zone = group_zone(data.group)
    meeting = data.meeting
    starts = meeting.starts_at if meeting.starts_at.tzinfo else meeting.starts_at.replace(tzinfo=UTC)
    ends = meeting.ends_at
    if ends is not None and ends.tzinfo is None:
        ends = ends.replace(tzinfo=UTC)
    att = view.attendance
    return {
        "schema": SCHEMA,
        "title": pdf_title(view) if status == STATUS_DRAFT else view.title,
        "group": data.group.name,
        "organisation": data.group.organisation or None,
        "meeting": {
            "id": meeting.id,
            "date": starts.astimezone(zone).date().isoformat(),
            "starts_at": starts.astimezone(zone).isoformat(),
            "ends_at": ends.astimezone(zone).isoformat() if ends is not None else None,
            "place": meeting.place or None,
        },
        "document_date": view.compiled_at.astimezone(zone).date().isoformat(),
        "compiled_at": view.compiled_at.astimezone(zone).isoformat(),
        "status": status,
        "language": LANG_TAGS.get(view.lang, "nb-NO"),
        "sender": _sender(data),
        "participants": [
            {
                "name": row.name,
                "organisation": None if row.organisation_missing else row.organisation,
                "note": row.note,
            }
            for row in att.present
        ],
        "other_attendees": list(att.others),
        "excused": list(att.excused),
        "files": files,
        "generator": f"Referent {_referent_version()}",
    }


def _zip(members: list[tuple[str, bytes]], stamp: datetime) -> bytes:
    """A zip whose bytes depend only on its content: fixed times, fixed order, deflated."""
    when = stamp.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return out.getvalue()


def build_archive(
    data: ReferatData, *, locale: str | None = None, now: datetime, status: str = STATUS_DRAFT
) -> ArchiveBundle:
    """The whole bundle for one loaded meeting (CPU work only; no database)."""
    from handlers.referat.word import render_docx

    if status not in (STATUS_DRAFT, STATUS_FINAL):
        raise ValueError(f"unknown document status {status!r}")
    view = build_view(data, locale=locale, now=now)
    stem = view.filename_stem
    pdf = render_pdf(view)
    docx = render_docx(view)
    files = [
        _file_entry(f"{stem}.pdf", pdf, MIME_TYPES["pdf"], "PDF/A-2a", "arkivformat"),
        _file_entry(f"{stem}.docx", docx, MIME_TYPES["docx"], "Office Open XML (docx)", "produksjonsformat"),
    ]
    metadata = archive_metadata(data, view, files, status=status)
    meta_bytes = (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    content = _zip(
        [(f"{stem}.pdf", pdf), (f"{stem}.docx", docx), (METADATA_NAME, meta_bytes)], view.compiled_at
    )
    return ArchiveBundle(filename=f"{stem}-arkiv.zip", content=content, metadata=metadata)
