"""consent: Enedis asked again about a consent it has not confirmed; the address hold awaits review

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('consents', sa.Column('dso_check_at', sa.DateTime(timezone=True), nullable=True),
                  schema='consent')
    op.add_column('consents', sa.Column('dso_check_attempts', sa.Integer(), server_default='0',
                                        nullable=False), schema='consent')
    op.create_index('ix_consent_consents_dso_check_due', 'consents', ['dso_check_at'], unique=False,
                    schema='consent', postgresql_where=sa.text('dso_check_at IS NOT NULL'))
    op.drop_index('ix_consent_consents_address_pending', table_name='consents', schema='consent')
    op.create_index('ix_consent_consents_address_pending', 'consents', ['updated_at'], unique=False,
                    schema='consent',
                    postgresql_where=sa.text("address_check IN ('mismatch', 'resident_confirmed')"))


def downgrade() -> None:
    op.drop_index('ix_consent_consents_address_pending', table_name='consents', schema='consent')
    op.create_index('ix_consent_consents_address_pending', 'consents', ['updated_at'], unique=False,
                    schema='consent', postgresql_where=sa.text("address_check = 'mismatch'"))
    op.drop_index('ix_consent_consents_dso_check_due', table_name='consents', schema='consent')
    op.drop_column('consents', 'dso_check_attempts', schema='consent')
    op.drop_column('consents', 'dso_check_at', schema='consent')
