"""outbox request id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The request or event that wrote each event, carried onto its envelope (nullable: no table rewrite).
    op.add_column('outbox', sa.Column('request_id', sa.Text(), nullable=True), schema='ingest_sge')


def downgrade() -> None:
    op.drop_column('outbox', 'request_id', schema='ingest_sge')
