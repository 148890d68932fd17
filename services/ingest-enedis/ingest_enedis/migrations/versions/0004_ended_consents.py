"""consents ended here, remembered by hash so that a late grant never resumes collection

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ended_consents',
    sa.Column('consent_hash', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consent_hash', name=op.f('pk_ended_consents')),
    schema='ingest_enedis'
    )
    # What was already stopped here (metro.erasure.subject_hash of the consent id, computed in SQL).
    op.execute("INSERT INTO ingest_enedis.ended_consents (consent_hash, reason) "
               "SELECT encode(sha256(convert_to('metro-erased:' || consent_id::text, 'UTF8')), 'hex'),"
               " 'revoked' "
               "FROM ingest_enedis.cursors WHERE NOT active ON CONFLICT DO NOTHING")


def downgrade() -> None:
    op.drop_table('ended_consents', schema='ingest_enedis')
