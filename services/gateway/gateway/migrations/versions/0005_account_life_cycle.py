"""account life cycle: verified addresses, single-use e-mail links, sessions listed and idle

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
                  schema='gateway')
    op.add_column('sessions', sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'),
                                        nullable=False), schema='gateway')
    op.add_column('sessions', sa.Column('last_used_at', sa.DateTime(timezone=True),
                                        server_default=sa.text('now()'), nullable=False), schema='gateway')
    op.add_column('sessions', sa.Column('user_agent', sa.Text(), nullable=True), schema='gateway')
    op.create_unique_constraint(op.f('uq_sessions_id'), 'sessions', ['id'], schema='gateway')
    op.create_table('account_tokens',
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gateway.accounts.id'],
                            name=op.f('fk_account_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_account_tokens')),
    schema='gateway'
    )
    op.create_index(op.f('ix_gateway_account_tokens_account_id'), 'account_tokens', ['account_id'],
                    unique=False, schema='gateway')


def downgrade() -> None:
    op.drop_index(op.f('ix_gateway_account_tokens_account_id'), table_name='account_tokens', schema='gateway')
    op.drop_table('account_tokens', schema='gateway')
    op.drop_constraint(op.f('uq_sessions_id'), 'sessions', schema='gateway')
    op.drop_column('sessions', 'user_agent', schema='gateway')
    op.drop_column('sessions', 'last_used_at', schema='gateway')
    op.drop_column('sessions', 'id', schema='gateway')
    op.drop_column('accounts', 'email_verified_at', schema='gateway')
