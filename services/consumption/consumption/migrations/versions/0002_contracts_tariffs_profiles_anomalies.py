"""contracts tariffs profiles anomalies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:15:11.603872
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('anomaly_episodes',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('episode_key', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('expected_wh', sa.BigInteger(), nullable=False),
    sa.Column('observed_wh', sa.BigInteger(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'episode_key', name=op.f('pk_anomaly_episodes')),
    schema='consumption'
    )
    op.create_table('anomaly_scan_queue',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_anomaly_scan_queue')),
    schema='consumption'
    )
    op.create_table('contracts',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('tariff_option', sa.Text(), nullable=False),
    sa.Column('subscribed_kva', sa.Integer(), nullable=True),
    sa.Column('offpeak_hours', sa.Text(), nullable=True),
    sa.Column('offpeak_hours_per_day', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('start', sa.Date(), nullable=True),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'origin', name=op.f('pk_contracts')),
    schema='consumption'
    )
    op.create_table('profiles',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('profile', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_profiles')),
    schema='consumption'
    )
    op.create_table('tariff_catalogues',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('energy', sa.Text(), nullable=False),
    sa.Column('csv', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_catalogues')),
    schema='consumption'
    )
    op.create_index(op.f('ix_consumption_tariff_catalogues_energy'), 'tariff_catalogues', ['energy'], unique=False, schema='consumption')


def downgrade() -> None:
    op.drop_index(op.f('ix_consumption_tariff_catalogues_energy'), table_name='tariff_catalogues', schema='consumption')
    op.drop_table('tariff_catalogues', schema='consumption')
    op.drop_table('profiles', schema='consumption')
    op.drop_table('contracts', schema='consumption')
    op.drop_table('anomaly_scan_queue', schema='consumption')
    op.drop_table('anomaly_episodes', schema='consumption')
