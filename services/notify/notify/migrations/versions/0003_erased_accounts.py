"""erased accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_accounts',
    sa.Column('subject_hash', sa.Text(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('subject_hash', name=op.f('pk_erased_accounts')),
    schema='notify'
    )


def downgrade() -> None:
    op.drop_table('erased_accounts', schema='notify')
