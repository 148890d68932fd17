"""login failures keyed by an HMAC: the rows keyed by a raw e-mail or client address are dropped

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:40:00.000000
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # They lived 15 minutes for throttling; they are not kept under a key that names someone.
    op.execute("DELETE FROM gateway.login_failures")


def downgrade() -> None:
    pass
