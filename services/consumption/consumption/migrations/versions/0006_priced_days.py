"""priced days read model and its queue; the readings version it replaces

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('priced_days',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('wh', sa.BigInteger(), nullable=False),
    sa.Column('extra', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('eur', sa.Numeric(18, 6), nullable=True),
    sa.Column('flags', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'day', name=op.f('pk_priced_days')),
    schema='consumption',
    postgresql_partition_by='RANGE (day)'
    )
    # The readings' partitions, year by year.
    for year in range(2010, 2041):
        op.execute(f"CREATE TABLE consumption.priced_days_{year} PARTITION OF consumption.priced_days "
                   f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
    op.execute("CREATE TABLE consumption.priced_days_default PARTITION OF consumption.priced_days DEFAULT")
    op.create_table('price_queue',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_price_queue')),
    schema='consumption'
    )
    op.add_column('meters', sa.Column('priced_key', sa.Text(), nullable=True), schema='consumption')
    # Every meter already holding readings is priced once by the worker.
    op.execute("INSERT INTO consumption.price_queue (meter_id) SELECT meter_id FROM consumption.meters "
               "WHERE erased_at IS NULL")
    op.drop_column('meters', 'readings_version', schema='consumption')


def downgrade() -> None:
    op.add_column('meters', sa.Column('readings_version', sa.BigInteger(), server_default=sa.text('0'),
                                      nullable=False), schema='consumption')
    op.drop_column('meters', 'priced_key', schema='consumption')
    op.drop_table('price_queue', schema='consumption')
    op.drop_table('priced_days', schema='consumption')
