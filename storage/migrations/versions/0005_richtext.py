"""member text is stored in the rich-text source form: escape what older rows hold as plain text

Until this revision member text (submissions.text, follow_ups.text, agenda_items.notes and
.decision) was stored as plain text and shown literally. It is now the canonical source form
of handlers.richtext (a small Markdown dialect: `**fet**`, `_kursiv_`, `` `kode` ``, links).
So that an older row keeps rendering exactly as before, its inline markup characters are
backslash-escaped; paragraphs, line breaks and typed `- ` / `1. ` list markers are kept, so
they still read as paragraphs and lists. Downgrade removes the escapes again.

Self-contained on purpose: a migration must not change with the application code.

Revision ID: 0005_richtext
Revises: 0004_year
Create Date: 2026-11-30 11:50:00
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_richtext"
down_revision: str | None = "0004_year"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ITEM = re.compile(r"^(\s*(?:[-*•·–]|\d{1,3}[.)])\s+)(.*)$")
_MARKUP = re.compile(r"([\\`*_~\[\]<>])")
_ESCAPED = re.compile(r"\\([\\`*_~\[\]<>])")
_COLUMNS = (("submissions", "text"), ("follow_ups", "text"), ("agenda_items", "notes"), ("agenda_items", "decision"))


def escape_legacy(text: str) -> str:
    """Plain text → source that reads back as the same characters, lists and paragraphs."""
    out = []
    for line in text.split("\n"):
        match = _ITEM.match(line)
        head, rest = (match.group(1), match.group(2)) if match else ("", line)
        out.append(head + _MARKUP.sub(r"\\\1", rest))
    return "\n".join(out)


def unescape_legacy(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def _rewrite(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for table_name, column in _COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.Text))
        rows = bind.execute(sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None)))
        for row_id, value in rows.fetchall():
            new = change(value)
            if new != value:
                bind.execute(table.update().where(table.c.id == row_id).values({column: new}))


def upgrade() -> None:
    _rewrite(escape_legacy)


def downgrade() -> None:
    _rewrite(unescape_legacy)
