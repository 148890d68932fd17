"""erasure requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:18:44.322547
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erasure_requests',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('subject_hash', sa.Text(), nullable=False),
    sa.Column('meter_ids', postgresql.ARRAY(sa.UUID()), server_default='{}', nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('validated_by', sa.Text(), nullable=True),
    sa.Column('services_pending', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_requests')),
    sa.UniqueConstraint('account_id', name=op.f('uq_erasure_requests_account_id')),
    sa.UniqueConstraint('subject_hash', name=op.f('uq_erasure_requests_subject_hash')),
    schema='gateway'
    )


def downgrade() -> None:
    op.drop_table('erasure_requests', schema='gateway')
