"""members.sort_name: the Vietnamese sort key of the full name (given name, then family name)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 13:45:00

Lists of members sort on this column in SQL (paged lists included), so that
"Lê Anh" comes before "Trần Bình" and "Ân" after "Anh" and "Ăn" (text.vi_sort_string).
Existing rows are filled in from their full name.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from service.text import vi_sort_string
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('sort_name', sa.String(length=255), nullable=True))
        batch.create_index('ix_members_sort_name', ['sort_name'], unique=False)
    conn = op.get_bind()
    members = sa.table('members', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                       sa.column('sort_name', sa.String))
    rows = conn.execute(sa.select(members.c.id, members.c.full_name)).all()
    for member_id, full_name in rows:
        conn.execute(members.update().where(members.c.id == member_id)
                     .values(sort_name=vi_sort_string(full_name or "")))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_index('ix_members_sort_name')
        batch.drop_column('sort_name')
