"""draft links (per-meeting link generation, a stored signing key) and the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:48:22.152040
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('app_keys',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_keys'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('platform', sa.Enum('slack', 'teams', 'cli', name='platform', native_enum=False, length=24), nullable=False),
    sa.Column('workspace_id', sa.String(length=200), nullable=False),
    sa.Column('actor_user_id', sa.String(length=200), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_group_at', ['group_id', 'at'], unique=False)

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_generation', sa.Integer(), server_default='0', nullable=False))




def downgrade() -> None:
    
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('link_generation')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_group_at')

    op.drop_table('audit_log')
    op.drop_table('app_keys')

