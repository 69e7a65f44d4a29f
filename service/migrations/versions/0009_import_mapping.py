"""import mapping: saved column mappings, the member's employer, what an import wrote (for undo)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_key', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.String(length=40), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_key', 'signature', name='uq_import_mapping')
    )
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('employer', sa.String(length=255), nullable=True))
    with op.batch_alter_table('import_batches') as batch:
        batch.add_column(sa.Column('applied', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_batches') as batch:
        batch.drop_column('applied')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('employer')
    op.drop_table('import_mappings')
