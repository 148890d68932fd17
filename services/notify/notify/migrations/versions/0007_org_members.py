"""organisation members, for the weekly excess digest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:00:00
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
        'org_members',
        sa.Column('org_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('account_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('org_name', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('org_id', 'account_id', name=op.f('pk_org_members')),
        schema='notify')
    op.create_index(op.f('ix_org_members_account_id'), 'org_members', ['account_id'], schema='notify')


def downgrade() -> None:
    op.drop_table('org_members', schema='notify')
