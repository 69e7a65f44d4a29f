"""form definition hashes: on each template version and each printed sheet

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 11:50:00

The content hash (SHA-256 hex, see forms.definition.content_hash) of the
form definition a template version was released with, and of the definition
each evaluation sheet was printed from.  Existing rows keep NULL: the
service fills a template version's hash from its stored definition when it
first checks the built-in templates (and refuses a changed released version).
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document_templates') as batch:
        batch.add_column(sa.Column('definition_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('evaluations') as batch:
        batch.add_column(sa.Column('definition_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluations') as batch:
        batch.drop_column('definition_hash')
    with op.batch_alter_table('document_templates') as batch:
        batch.drop_column('definition_hash')
