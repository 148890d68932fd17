"""meter activity: when the resident last looked at the meter, to collect the active ones first under the quota

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meter_activity',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_meter_activity')),
    schema='ingest_enedis'
    )


def downgrade() -> None:
    op.drop_table('meter_activity', schema='ingest_enedis')
