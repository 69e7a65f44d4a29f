"""audit log of any entity, append-only with a hash chain

Revision ID: 0006
Revises: 0005

The audit log is rebuilt as ``audit_log`` with entity_kind / entity_id / job_id and the chain
columns (member_id kept for member history, without its foreign key: the history outlives the
member and a trigger forbids the SET NULL update). Existing entries become member entries and are
chained in id order. Then triggers refuse UPDATE and DELETE on the table (SQLite and PostgreSQL).
A later migration that rebuilds this table (SQLite batch mode) must create the triggers again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql
"""


def create_triggers(bind) -> None:
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {event} refused'); END")


def drop_triggers(bind) -> None:
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    from service.audit import GENESIS, content_hash
    bind = op.get_bind()
    new = op.create_table('audit_log_v6',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_kind', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=255), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    old = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('member_id', sa.Integer),
                   sa.column('action', sa.String), sa.column('user_id', sa.Integer), sa.column('source', sa.String),
                   sa.column('source_ref', sa.String), sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                   sa.column('at', sa.DateTime))
    prev, batch = GENESIS, []
    for r in bind.execute(sa.select(old).order_by(old.c.id)).mappings():
        row = {**r, "entity_kind": "member", "entity_id": r["member_id"], "job_id": None}
        row["prev_hash"] = prev
        row["entry_hash"] = prev = content_hash(row, prev)
        batch.append(row)
        if len(batch) >= 1000:
            bind.execute(new.insert(), batch)
            batch = []
    if batch:
        bind.execute(new.insert(), batch)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_member_id')
    op.drop_table('audit_log')
    op.rename_table('audit_log_v6', 'audit_log')
    if bind.dialect.name == "postgresql":  # the id sequence continues after the copied entries
        op.execute("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false)")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_entity_kind'), ['entity_kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_member_id'), ['member_id'], unique=False)
    create_triggers(bind)


def downgrade() -> None:
    bind = op.get_bind()
    drop_triggers(bind)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_member_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_entity_kind'))
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('job_id')
        batch_op.drop_column('entity_id')
        batch_op.drop_column('entity_kind')
        batch_op.alter_column('action', type_=sa.String(length=32))
        batch_op.create_foreign_key('fk_audit_log_member', 'members', ['member_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_audit_log_member_id', ['member_id'], unique=False)
