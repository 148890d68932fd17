"""administrators' audit trail; terms-of-use drafts (published_at null until published)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_audit',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=False),
    sa.Column('actor_email', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit')),
    schema='gateway'
    )
    op.create_index(op.f('ix_gateway_admin_audit_at'), 'admin_audit', ['at'], unique=False, schema='gateway')
    op.create_index(op.f('ix_gateway_admin_audit_action'), 'admin_audit', ['action', 'at'], unique=False,
                    schema='gateway')
    op.alter_column('terms_versions', 'published_at', nullable=True, schema='gateway')
    op.add_column('terms_versions', sa.Column('created_at', sa.DateTime(timezone=True),
                                              server_default=sa.text('now()'), nullable=False), schema='gateway')
    op.execute("UPDATE gateway.terms_versions SET created_at = published_at")


def downgrade() -> None:
    op.execute("DELETE FROM gateway.terms_versions WHERE published_at IS NULL")
    op.drop_column('terms_versions', 'created_at', schema='gateway')
    op.alter_column('terms_versions', 'published_at', nullable=False, schema='gateway')
    op.drop_index(op.f('ix_gateway_admin_audit_action'), table_name='admin_audit', schema='gateway')
    op.drop_index(op.f('ix_gateway_admin_audit_at'), table_name='admin_audit', schema='gateway')
    op.drop_table('admin_audit', schema='gateway')
