"""consent address mismatch parts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('consents', sa.Column('address_mismatch', postgresql.ARRAY(sa.Text()), nullable=True),
                  schema='consent')
    op.create_index('ix_consent_consents_address_pending', 'consents', ['updated_at'], unique=False,
                    schema='consent', postgresql_where=sa.text("address_check = 'mismatch'"))


def downgrade() -> None:
    op.drop_index('ix_consent_consents_address_pending', table_name='consents', schema='consent')
    op.drop_column('consents', 'address_mismatch', schema='consent')
