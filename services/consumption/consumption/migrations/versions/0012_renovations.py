"""renovations declared on a building or a dwelling, for the before/after figures

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'renovations',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('holder_id', sa.UUID(), nullable=False),
        sa.Column('building_id', sa.UUID(), nullable=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('works', sa.Text(), nullable=False),
        sa.Column('programme', sa.Text(), nullable=True),
        sa.Column('heating_energy', sa.Text(), nullable=True),
        sa.Column('meter_ids', postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_renovations')),
        schema='consumption')
    op.create_index(op.f('ix_consumption_renovations_holder_id'), 'renovations', ['holder_id'], unique=False,
                    schema='consumption')
    op.create_index(op.f('ix_consumption_renovations_programme'), 'renovations', ['programme'], unique=False,
                    schema='consumption')


def downgrade() -> None:
    op.drop_table('renovations', schema='consumption')
