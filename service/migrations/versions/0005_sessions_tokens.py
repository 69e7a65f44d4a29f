"""sessions and tokens: session version per user, token expiry and revocation, sign-in throttle counters

Revision ID: 0005
Revises: 0004
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    # No table copy for users on SQLite (a copy would drop the old table, and ON DELETE CASCADE would take
    # every API token with it): ADD/DROP COLUMN are native on SQLite >= 3.35 and on PostgreSQL.
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('users', 'failed_logins')
    op.drop_column('users', 'last_failed_at')
    # tokens made before expiry existed expire 90 days after this upgrade
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(), nullable=True))
    op.add_column('api_tokens', sa.Column('revoked_at', sa.DateTime(), nullable=True))
    op.execute(sa.text("UPDATE api_tokens SET expires_at = :at").bindparams(
        at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) + dt.timedelta(days=90)))
    with op.batch_alter_table('api_tokens') as batch:  # a table copy on SQLite: nothing refers to api_tokens
        batch.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('revoked_at')
        batch.drop_column('expires_at')
    op.add_column('users', sa.Column('last_failed_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('users', 'session_version')
    op.drop_table('sign_in_throttle')
