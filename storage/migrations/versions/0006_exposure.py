"""group names per home workspace/tenant, and pending joins from other workspaces

Revision ID: 0006_exposure
Revises: 0005_richtext
Create Date: 2026-11-30 12:00:00.000000

Existing groups get the home of their oldest channel binding (the channel `oppsett` ran in),
or the command line when they have none (made by `roster import`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_exposure'
down_revision: str | None = '0005_richtext'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_platform = sa.Enum('slack', 'teams', 'cli', name='platform', native_enum=False, length=24)


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite drops a constraint by rebuilding the table, and dropping the old `groups` would
    cascade into every table that refers to it. Foreign keys can only be switched off outside a
    transaction, so on SQLite this step commits what came before and switches them off (then on
    again) around the rebuild. PostgreSQL alters the constraint in place."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    pragma = f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    bind.exec_driver_sql(pragma)
    if bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()) != on:  # inside a transaction
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql(pragma)
    if bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar()) != on:
        raise RuntimeError("cannot switch SQLite's foreign keys for the groups rebuild")


def upgrade() -> None:
    op.create_table('pending_joins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('platform', _platform, nullable=False),
    sa.Column('workspace_id', sa.String(length=200), nullable=False),
    sa.Column('channel_id', sa.String(length=300), nullable=False),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('requested_by_name', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_pending_joins_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_joins')),
    sa.UniqueConstraint('group_id', 'platform', 'workspace_id', 'channel_id', name=op.f('uq_pending_joins_group_id_platform_workspace_id_channel_id'))
    )
    with op.batch_alter_table('pending_joins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_joins_group_id'), ['group_id'], unique=False)

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_platform', _platform, server_default='cli', nullable=False))
        batch_op.add_column(sa.Column('home_workspace', sa.String(length=200), server_default='', nullable=False))

    # Each group's home: the workspace of its oldest channel binding.
    op.execute(
        """
        UPDATE groups SET
            home_platform = (SELECT b.platform FROM channel_bindings b WHERE b.group_id = groups.id
                             ORDER BY b.id LIMIT 1),
            home_workspace = (SELECT b.workspace_id FROM channel_bindings b WHERE b.group_id = groups.id
                              ORDER BY b.id LIMIT 1)
        WHERE EXISTS (SELECT 1 FROM channel_bindings b WHERE b.group_id = groups.id)
        """
    )

    _sqlite_foreign_keys(False)
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_constraint('uq_groups_name', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_groups_home_platform_home_workspace_name'), ['home_platform', 'home_workspace', 'name']
        )
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    # Fails if two homes now hold groups of the same name; rename one first.
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_constraint('uq_groups_home_platform_home_workspace_name', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_groups_name'), ['name'])
        batch_op.drop_column('home_workspace')
        batch_op.drop_column('home_platform')
    _sqlite_foreign_keys(True)

    with op.batch_alter_table('pending_joins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_joins_group_id'))

    op.drop_table('pending_joins')
