"""address base: the Base Adresse Nationale's addresses of the Métropole, searched by trigrams

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('addresses',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('postal_code', sa.Text(), nullable=False),
    sa.Column('insee_code', sa.Text(), nullable=False),
    sa.Column('municipality', sa.Text(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('search', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_addresses_insee_code'), 'addresses', ['insee_code'], unique=False,
                    schema='consent')
    op.create_index('ix_consent_addresses_search', 'addresses', ['search'], unique=False, schema='consent',
                    postgresql_using='gin', postgresql_ops={'search': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_consent_addresses_search', table_name='addresses', schema='consent')
    op.drop_index(op.f('ix_consent_addresses_insee_code'), table_name='addresses', schema='consent')
    op.drop_table('addresses', schema='consent')
