"""landlord statements: a housing building's dwellings and the role of its meters

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'building_dwellings',
        sa.Column('id', UUID(as_uuid=True), primary_key=True),
        sa.Column('building_id', UUID(as_uuid=True), sa.ForeignKey('consent.buildings.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('floor_area_m2', sa.Float(), nullable=False),
        sa.Column('heating_tantiemes', sa.Integer()),
        sa.Column('hot_water_tantiemes', sa.Integer()),
        sa.Column('tenant_account_id', UUID(as_uuid=True)),
        sa.Column('invite_hash', sa.Text(), unique=True),
        sa.Column('invite_expires_at', sa.DateTime(timezone=True)),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema='consent')
    op.create_index('ix_consent_building_dwellings_building_id', 'building_dwellings', ['building_id'],
                    schema='consent')
    op.create_index('ix_consent_building_dwellings_tenant_account_id', 'building_dwellings', ['tenant_account_id'],
                    schema='consent')
    op.create_table(
        'building_meter_roles',
        sa.Column('meter_id', UUID(as_uuid=True), sa.ForeignKey('consent.meters.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('dwelling_id', UUID(as_uuid=True),
                  sa.ForeignKey('consent.building_dwellings.id', ondelete='CASCADE')),
        schema='consent')
    op.create_index('ix_consent_building_meter_roles_dwelling_id', 'building_meter_roles', ['dwelling_id'],
                    schema='consent')


def downgrade() -> None:
    op.drop_table('building_meter_roles', schema='consent')
    op.drop_table('building_dwellings', schema='consent')
