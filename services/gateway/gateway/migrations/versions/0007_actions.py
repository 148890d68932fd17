"""actions on the three pathways and residents' commitments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:50:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'actions',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('title_fr', sa.Text(), nullable=False),
        sa.Column('title_en', sa.Text(), nullable=False),
        sa.Column('explanation_fr', sa.Text(), nullable=False),
        sa.Column('explanation_en', sa.Text(), nullable=False),
        sa.Column('pathway', sa.Text(), nullable=False),
        sa.Column('energy', sa.Text(), nullable=False),
        sa.Column('use', sa.Text(), nullable=False),
        sa.Column('effort', sa.Text(), nullable=False),
        sa.Column('saving_share', sa.Numeric(4, 3), nullable=False),
        sa.Column('season', sa.Text(), server_default='all', nullable=False),
        sa.Column('dwelling_types', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
        sa.Column('heating_energies', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
        sa.Column('heating_modes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
        sa.Column('after_anomaly', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
        schema='gateway',
    )
    op.create_table(
        'action_commitments',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('account_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('action_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('energy', sa.Text(), nullable=True),
        sa.Column('committed_on', sa.Date(), nullable=False),
        sa.Column('estimated_kwh', sa.Numeric(12, 1), nullable=True),
        sa.Column('estimated_eur', sa.Numeric(12, 2), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['gateway.accounts.id'], ondelete='CASCADE',
                                name=op.f('fk_action_commitments_account_id_accounts')),
        sa.ForeignKeyConstraint(['action_id'], ['gateway.actions.id'],
                                name=op.f('fk_action_commitments_action_id_actions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_commitments')),
        sa.UniqueConstraint('account_id', 'action_id', name=op.f('uq_action_commitments_account_id')),
        schema='gateway',
    )
    op.create_index(op.f('ix_gateway_action_commitments_account_id'), 'action_commitments', ['account_id'],
                    unique=False, schema='gateway')


def downgrade() -> None:
    op.drop_index(op.f('ix_gateway_action_commitments_account_id'), table_name='action_commitments',
                  schema='gateway')
    op.drop_table('action_commitments', schema='gateway')
    op.drop_table('actions', schema='gateway')
