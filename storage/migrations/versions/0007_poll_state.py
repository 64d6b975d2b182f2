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


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite drops a column by rebuilding the table, and dropping the old `polls` would cascade
    into its options and votes. Foreign keys can only be switched off outside a transaction, so
    on SQLite this step commits what came before and switches them off (then on again) around the
    rebuild. PostgreSQL drops the column in place. (As in 0006_exposure; migrations stay
    self-contained.)"""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    pragma = f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    bind.exec_driver_sql(pragma)
    if bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()) != on:  # inside a transaction
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql(pragma)
    if bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()) != on:
        raise RuntimeError("cannot switch SQLite's foreign keys for the polls rebuild")


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
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_column('status')
    _sqlite_foreign_keys(True)
