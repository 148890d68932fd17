"""news: short seasonal items for the home screen, by advisers and administrators

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'news',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('author_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('title_fr', sa.Text(), nullable=False),
        sa.Column('title_en', sa.Text(), nullable=False),
        sa.Column('body_fr', sa.Text(), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('audience', sa.Text(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_news')),
        schema='gateway')
    op.create_index(op.f('ix_gateway_news_author_id'), 'news', ['author_id'], schema='gateway')
    op.create_index(op.f('ix_gateway_news_valid_until'), 'news', ['valid_until', 'valid_from'], schema='gateway')


def downgrade() -> None:
    op.drop_table('news', schema='gateway')
