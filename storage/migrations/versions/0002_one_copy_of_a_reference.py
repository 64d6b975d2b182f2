"""one copy of a conversation reference: channel_bindings.reference goes

A bound Teams channel's reference was kept twice: on its channel binding and in
conversation_references (`channel:<id>`). The messenger now reads only the latter. Any binding
reference that table lacks is copied over first, so no channel becomes unreachable; then the
column is dropped (batch mode, so SQLite rebuilds the table).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLATFORM = sa.Enum("slack", "teams", "cli", name="platform", native_enum=False, length=24)

_bindings = sa.table(
    "channel_bindings",
    sa.column("platform", _PLATFORM),
    sa.column("workspace_id", sa.String()),
    sa.column("channel_id", sa.String()),
    sa.column("reference", sa.JSON()),
)
_references = sa.table(
    "conversation_references",
    sa.column("platform", _PLATFORM),
    sa.column("workspace_id", sa.String()),
    sa.column("key", sa.String()),
    sa.column("reference", sa.JSON()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _now(dialect: str) -> datetime:
    # As storage.models.UTCDateTime writes it: naive UTC on SQLite, aware elsewhere.
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if dialect == "sqlite" else now


def upgrade() -> None:
    bind = op.get_bind()
    stored = {
        (str(platform), workspace, key)
        for platform, workspace, key in bind.execute(
            sa.select(_references.c.platform, _references.c.workspace_id, _references.c.key)
        )
    }
    rows = bind.execute(
        sa.select(
            _bindings.c.platform, _bindings.c.workspace_id, _bindings.c.channel_id, _bindings.c.reference
        ).where(_bindings.c.reference.is_not(None))
    ).all()
    missing = []
    for platform, workspace, channel, reference in rows:
        key = f"channel:{channel}"
        if not reference or (str(platform), workspace, key) in stored:
            continue
        stored.add((str(platform), workspace, key))
        missing.append(
            {
                "platform": platform,
                "workspace_id": workspace,
                "key": key,
                "reference": reference,
                "updated_at": _now(bind.dialect.name),
            }
        )
    if missing:
        op.bulk_insert(_references, missing)
    with op.batch_alter_table("channel_bindings") as batch:
        batch.drop_column("reference")


def downgrade() -> None:
    with op.batch_alter_table("channel_bindings") as batch:
        batch.add_column(sa.Column("reference", sa.JSON(), nullable=True))
    bind = op.get_bind()
    refs = {
        (str(platform), workspace, key): reference
        for platform, workspace, key, reference in bind.execute(
            sa.select(
                _references.c.platform, _references.c.workspace_id, _references.c.key, _references.c.reference
            ).where(_references.c.key.startswith("channel:"))
        )
    }
    for platform, workspace, channel in bind.execute(
        sa.select(_bindings.c.platform, _bindings.c.workspace_id, _bindings.c.channel_id)
    ).all():
        reference = refs.get((str(platform), workspace, f"channel:{channel}"))
        if reference is not None:
            bind.execute(
                _bindings.update()
                .where(
                    _bindings.c.platform == platform,
                    _bindings.c.workspace_id == workspace,
                    _bindings.c.channel_id == channel,
                )
                .values(reference=reference)
            )
