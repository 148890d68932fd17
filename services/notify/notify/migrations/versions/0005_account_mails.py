"""account mails: a link's token kept until the mail has left

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('messages', sa.Column('secret', sa.Text(), nullable=True), schema='notify')


def downgrade() -> None:
    op.drop_column('messages', 'secret', schema='notify')
