"""privacy: when a chat identity was last seen (retention), a member's export-link generation

Revision ID: 0004_privacy
Revises: 0003
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_privacy'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('platform_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('platform_identities', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('data_generation')
