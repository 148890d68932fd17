"""share terms (resident's name and contact, end date, scopes dwelling/contract) and advice notes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('shares', sa.Column('resident_name', sa.Text(), nullable=False, server_default=''),
                  schema='consent')
    op.add_column('shares', sa.Column('resident_contact', sa.Text(), nullable=True), schema='consent')
    op.add_column('shares', sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True), schema='consent')
    # Shares given before an end date existed last six months from when they were given.
    op.add_column('shares', sa.Column('ends_on', sa.Date(), nullable=True), schema='consent')
    op.execute("UPDATE consent.shares SET ends_on = ((created_at AT TIME ZONE 'Europe/Paris') "
               "+ interval '6 months')::date, resident_name = 'résident', "
               "scopes = array_replace(scopes, 'profile', 'dwelling')")
    op.alter_column('shares', 'ends_on', nullable=False, schema='consent')
    op.alter_column('shares', 'resident_name', server_default=None, schema='consent')
    op.create_table(
        'advice_notes',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('resident_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('adviser_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('adviser_name', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advice_notes')),
        schema='consent')
    op.create_index(op.f('ix_consent_advice_notes_resident_id'), 'advice_notes', ['resident_id'],
                    schema='consent')
    op.create_index(op.f('ix_consent_advice_notes_adviser_id'), 'advice_notes', ['adviser_id'], schema='consent')


def downgrade() -> None:
    op.drop_table('advice_notes', schema='consent')
    op.execute("UPDATE consent.shares SET scopes = array_replace(scopes, 'dwelling', 'profile')")
    for column in ('ends_on', 'renewed_at', 'resident_contact', 'resident_name'):
        op.drop_column('shares', column, schema='consent')
