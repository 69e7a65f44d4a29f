"""item 7 (other remarks) of a scanned sheet: its crop attached to the evaluation, transcription state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:30:00

When the remark area of a scanned sheet has writing, the crop is stored
(``remarks_file_id``, a stored file) and the remark waits for a person to
type it (``remarks_status`` = ``pending``) until transcribed
(``transcribed``, with who and when).  Existing rows keep NULL: no crop.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluations') as batch:
        batch.add_column(sa.Column('remarks_file_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('remarks_status', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('remarks_transcribed_by', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('remarks_transcribed_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key('fk_evaluations_remarks_file', 'stored_files', ['remarks_file_id'], ['id'])
        batch.create_foreign_key('fk_evaluations_remarks_transcribed_by', 'users', ['remarks_transcribed_by'], ['id'])
        batch.create_index('ix_evaluations_remarks_status', ['remarks_status'])


def downgrade() -> None:
    with op.batch_alter_table('evaluations') as batch:
        batch.drop_index('ix_evaluations_remarks_status')
        batch.drop_constraint('fk_evaluations_remarks_transcribed_by', type_='foreignkey')
        batch.drop_constraint('fk_evaluations_remarks_file', type_='foreignkey')
        batch.drop_column('remarks_transcribed_at')
        batch.drop_column('remarks_transcribed_by')
        batch.drop_column('remarks_status')
        batch.drop_column('remarks_file_id')
