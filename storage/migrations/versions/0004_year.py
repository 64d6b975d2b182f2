"""across meetings: approved and frozen referat, closed follow-ups, closing polls, pending imports

Revision ID: 0004_year
Revises: 0004_privacy (chained when main was merged in)
Create Date: 2026-11-30 11:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_year'
down_revision: str | None = '0004_privacy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('referat_finals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('fmt', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('mime_type', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('frozen_by', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_referat_finals_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referat_finals')),
    sa.UniqueConstraint('meeting_id', 'fmt', name=op.f('uq_referat_finals_meeting_id_fmt'))
    )
    with op.batch_alter_table('referat_finals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referat_finals_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('pending_imports',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_pending_imports_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_pending_imports_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_pending_imports'))
    )
    with op.batch_alter_table('pending_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_imports_group_id'), ['group_id'], unique=False)

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referat_approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('referat_approved_by', sa.String(length=300), nullable=True))

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by_member_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_in_meeting_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_closed_by_member_id_members'), 'members', ['closed_by_member_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_closed_in_meeting_id_meetings'), 'meetings', ['closed_in_meeting_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_closed_in_meeting_id_meetings'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_closed_by_member_id_members'), type_='foreignkey')
        batch_op.drop_column('closed_in_meeting_id')
        batch_op.drop_column('closed_by_member_id')
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('referat_approved_by')
        batch_op.drop_column('referat_approved_at')

    with op.batch_alter_table('pending_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_imports_group_id'))
    op.drop_table('pending_imports')

    with op.batch_alter_table('referat_finals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referat_finals_meeting_id'))
    op.drop_table('referat_finals')
