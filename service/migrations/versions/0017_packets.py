"""cover letters of the per-cell packets (mẫu 3-213 part A): one numbered letter per committee, cell and year

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 13:30:00

The number comes from ``document_counters`` (kind ``cover_letter``); printing the packet again
finds the same row, so the letter keeps its number and date.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cover_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuing_org_id', sa.Integer(), nullable=False),
        sa.Column('residence_cell_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('return_deadline', sa.Date(), nullable=True),
        sa.Column('evaluation_ids', sa.JSON(), nullable=True),
        sa.Column('template_version', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['issuing_org_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['residence_cell_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuing_org_id', 'year', 'number', name='uq_cover_letter_number'),
        sa.UniqueConstraint('issuing_org_id', 'residence_cell_id', 'year', name='uq_cover_letter_cell'),
    )


def downgrade() -> None:
    op.drop_table('cover_letters')
