"""polls: a status (pending preview, posted, withdrawn)

An odd `grupper ny` (no responsible person, one group) waits as `pending` until the secretariat
confirms its preview; `grupper trekk` marks a posted poll `withdrawn`. Every existing poll was
posted (or made ready to post by an invitation import), so it becomes `posted`.

Revision ID: 0007_poll_state
Revises: 0006_exposure
Create Date: 2026-12-01 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_poll_state'
down_revision: str | None = '0006_exposure'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_status = sa.Enum('pending', 'posted', 'withdrawn', name='poll_status', native_enum=False, length=24)


def upgrade() -> None:
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', _status, server_default='posted', nullable=False))


def downgrade() -> None:
    # A pending poll was never posted and has no votes: it goes with the column (its options
    # first, whether or not SQLite enforces the cascade). A withdrawn poll is kept, and an older
    # release shows it again.
    pending = "SELECT id FROM polls WHERE status = 'pending'"
    op.execute(f"DELETE FROM poll_options WHERE poll_id IN ({pending})")
    op.execute(f"DELETE FROM polls WHERE id IN ({pending})")
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_column('status')
