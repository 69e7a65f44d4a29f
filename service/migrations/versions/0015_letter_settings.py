"""what an organisation's documents print: the upper body's name and the number suffix

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:40:00

``organisations.upper_body_name`` is printed above the issuing body in a letter's header
("ĐẢNG BỘ TỈNH QUẢNG NINH"); NULL keeps the parent organisation's name.
``organisations.document_code`` is the suffix of a document number ("ĐU" in "Số 01-GGT/ĐU");
NULL keeps the default from the body (ĐU for a đảng ủy, CB for a chi bộ cơ sở).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('upper_body_name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('document_code', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('document_code')
        batch.drop_column('upper_body_name')
