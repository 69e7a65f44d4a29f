"""year-end campaign: campaigns, their sheets (sent, received by hand), reminders, cell contacts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 13:30:00

A campaign is one workplace committee's year of evaluation sheets.  The steps the evaluation
does not record itself are kept per sheet: when it was sent, and a return received by hand or
digitally.  Reminder letters to late cells are numbered and kept with the serials they list.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workplace_org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('include_exempt', sa.Boolean(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workplace_org_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id']),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workplace_org_id', 'year', name='uq_campaign_org_year'),
    )
    op.create_index('ix_campaigns_workplace_org_id', 'campaigns', ['workplace_org_id'])
    op.create_table(
        'campaign_sheets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=True),
        sa.Column('received_via', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'member_id', name='uq_campaign_member'),
    )
    op.create_index('ix_campaign_sheets_campaign_id', 'campaign_sheets', ['campaign_id'])
    op.create_index('ix_campaign_sheets_member_id', 'campaign_sheets', ['member_id'])
    op.create_table(
        'campaign_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('residence_cell_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['residence_cell_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_campaign_reminders_campaign_id', 'campaign_reminders', ['campaign_id'])
    op.create_table(
        'cell_contacts',
        sa.Column('residence_cell_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['residence_cell_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id']),
        sa.PrimaryKeyConstraint('residence_cell_id'),
    )


def downgrade() -> None:
    op.drop_table('cell_contacts')
    op.drop_index('ix_campaign_reminders_campaign_id', table_name='campaign_reminders')
    op.drop_table('campaign_reminders')
    op.drop_index('ix_campaign_sheets_member_id', table_name='campaign_sheets')
    op.drop_index('ix_campaign_sheets_campaign_id', table_name='campaign_sheets')
    op.drop_table('campaign_sheets')
    op.drop_index('ix_campaigns_workplace_org_id', table_name='campaigns')
    op.drop_table('campaigns')
