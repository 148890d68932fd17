"""erasure requests re-published when unanswered, and stalled with an alert after too many

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 13:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('erasure_requests', sa.Column('publications', sa.Integer(), server_default='0', nullable=False),
                  schema='gateway')
    op.add_column('erasure_requests', sa.Column('last_published_at', sa.DateTime(timezone=True), nullable=True),
                  schema='gateway')
    op.add_column('erasure_requests', sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
                  schema='gateway')
    op.execute("UPDATE gateway.erasure_requests SET publications = 1, last_published_at = validated_at "
               "WHERE status = 'erasing'")


def downgrade() -> None:
    for column in ('alerted_at', 'last_published_at', 'publications'):
        op.drop_column('erasure_requests', column, schema='gateway')
