"""revocations to send to GRDF, kept through an account's erasure

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:40:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revocations',
    sa.Column('access_right_id', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('access_right_id', name=op.f('pk_revocations')),
    schema='ingest_grdf'
    )
    op.execute("INSERT INTO ingest_grdf.revocations (access_right_id, requested_at, attempts, tried_at, last_error) "
               "SELECT access_right_id, revoke_requested_at, revoke_attempts, checked_at, last_error "
               "FROM ingest_grdf.access_rights "
               "WHERE revoke_requested_at IS NOT NULL AND revoked_at_dso_at IS NULL")


def downgrade() -> None:
    op.drop_table('revocations', schema='ingest_grdf')
