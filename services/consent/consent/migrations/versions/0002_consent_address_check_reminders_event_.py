"""consent address check, reminders, event owner, shares, access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:18:38.593816
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('resident_id', sa.UUID(), nullable=False),
    sa.Column('reader_id', sa.UUID(), nullable=False),
    sa.Column('reader_role', sa.Text(), nullable=False),
    sa.Column('reader_name', sa.Text(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_access_log_reader_id'), 'access_log', ['reader_id'], unique=False, schema='consent')
    op.create_index(op.f('ix_consent_access_log_resident_id'), 'access_log', ['resident_id'], unique=False, schema='consent')
    op.create_table('shares',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('resident_id', sa.UUID(), nullable=False),
    sa.Column('adviser_id', sa.UUID(), nullable=False),
    sa.Column('adviser_name', sa.Text(), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_shares_adviser_id'), 'shares', ['adviser_id'], unique=False, schema='consent')
    op.create_index(op.f('ix_consent_shares_resident_id'), 'shares', ['resident_id'], unique=False, schema='consent')
    op.add_column('consent_events', sa.Column('account_id', sa.UUID(), nullable=True), schema='consent')
    op.execute("UPDATE consent.consent_events e SET account_id = c.account_id FROM consent.consents c "
               "WHERE c.id = e.consent_id")
    op.alter_column('consent_events', 'account_id', nullable=False, schema='consent')
    op.create_index(op.f('ix_consent_consent_events_account_id'), 'consent_events', ['account_id'], unique=False, schema='consent')
    op.add_column('consents', sa.Column('address_check', sa.Text(), nullable=True), schema='consent')
    op.add_column('consents', sa.Column('reminders_sent', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False), schema='consent')


def downgrade() -> None:
    op.drop_column('consents', 'reminders_sent', schema='consent')
    op.drop_column('consents', 'address_check', schema='consent')
    op.drop_index(op.f('ix_consent_consent_events_account_id'), table_name='consent_events', schema='consent')
    op.drop_column('consent_events', 'account_id', schema='consent')
    op.drop_index(op.f('ix_consent_shares_resident_id'), table_name='shares', schema='consent')
    op.drop_index(op.f('ix_consent_shares_adviser_id'), table_name='shares', schema='consent')
    op.drop_table('shares', schema='consent')
    op.drop_index(op.f('ix_consent_access_log_resident_id'), table_name='access_log', schema='consent')
    op.drop_index(op.f('ix_consent_access_log_reader_id'), table_name='access_log', schema='consent')
    op.drop_table('access_log', schema='consent')
