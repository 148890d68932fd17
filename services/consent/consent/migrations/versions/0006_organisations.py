"""consent: organisations, their members, buildings and the meters attached to them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text('now()')


def upgrade() -> None:
    op.create_table(
        'organisations',
        sa.Column('id', UUID, primary_key=True),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('siren', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema='consent')
    op.create_table(
        'org_members',
        sa.Column('org_id', UUID, sa.ForeignKey('consent.organisations.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('account_id', UUID, primary_key=True),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema='consent')
    op.create_index('ix_consent_org_members_account_id', 'org_members', ['account_id'], schema='consent')
    op.create_table(
        'buildings',
        sa.Column('id', UUID, primary_key=True),
        sa.Column('org_id', UUID, sa.ForeignKey('consent.organisations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('site', sa.Text(), nullable=True),
        sa.Column('street', sa.Text(), nullable=False),
        sa.Column('postal_code', sa.Text(), nullable=False),
        sa.Column('municipality', sa.Text(), nullable=False),
        sa.Column('insee_code', sa.Text(), nullable=False),
        sa.Column('use_type', sa.Text(), nullable=False),
        sa.Column('heated_area_m2', sa.Float(), nullable=False),
        sa.Column('construction_year', sa.Integer(), nullable=True),
        sa.Column('heating_energy', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        schema='consent')
    op.create_index('ix_consent_buildings_org_id', 'buildings', ['org_id'], schema='consent')
    op.create_table(
        'building_meters',
        sa.Column('building_id', UUID, sa.ForeignKey('consent.buildings.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('meter_id', UUID, sa.ForeignKey('consent.meters.id', ondelete='CASCADE'), primary_key=True,
                  unique=True),
        schema='consent')


def downgrade() -> None:
    op.drop_table('building_meters', schema='consent')
    op.drop_table('buildings', schema='consent')
    op.drop_table('org_members', schema='consent')
    op.drop_table('organisations', schema='consent')
