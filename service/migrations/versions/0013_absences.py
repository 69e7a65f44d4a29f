"""absence requests (đơn xin vắng) against a residence meeting, certified by the workplace committee

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 13:30:00

Only a certified request makes an absence excused; the year-end absence rule counts the others.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('absence_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('written_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('certified_by', sa.Integer(), nullable=True),
    sa.Column('certified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id']),
    sa.ForeignKeyConstraint(['certified_by'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'member_id', name='uq_absence_request')
    )
    with op.batch_alter_table('absence_requests') as batch:
        batch.create_index(batch.f('ix_absence_requests_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('absence_requests') as batch:
        batch.drop_index(batch.f('ix_absence_requests_member_id'))
    op.drop_table('absence_requests')
