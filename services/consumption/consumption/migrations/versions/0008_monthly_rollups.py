"""per-meter monthly rollups, partitioned by year, built once from the stored readings and priced days; the
earliest changed day of a queued pricing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monthly_rollups',
    sa.Column('meter_id', postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('energy', sa.Text(), nullable=False),
    sa.Column('wh', sa.BigInteger(), nullable=False),
    sa.Column('eur', sa.Numeric(18, 6), nullable=True),
    sa.Column('days', sa.SmallInteger(), nullable=False),
    sa.Column('days_present', sa.SmallInteger(), nullable=False),
    sa.Column('days_estimated', sa.SmallInteger(), nullable=False),
    sa.Column('days_priced', sa.SmallInteger(), nullable=False),
    sa.Column('flags', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('priced_key', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'month', name=op.f('pk_monthly_rollups')),
    schema='consumption',
    postgresql_partition_by='RANGE (month)'
    )
    for year in range(2010, 2041):
        op.execute(f"CREATE TABLE consumption.monthly_rollups_{year} PARTITION OF consumption.monthly_rollups "
                   f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
    op.execute("CREATE TABLE consumption.monthly_rollups_default PARTITION OF consumption.monthly_rollups DEFAULT")
    op.add_column('price_queue', sa.Column('since', sa.Date(), nullable=True), schema='consumption')
    # The months already stored, rolled up once (the pricing worker keeps them from now on).
    op.execute("""
        INSERT INTO consumption.monthly_rollups
          (meter_id, month, energy, wh, eur, days, days_present, days_estimated, days_priced, flags, priced_key)
        SELECT d.meter_id, date_trunc('month', d.day)::date, m.energy, sum(d.wh), sum(p.eur),
               (date_trunc('month', d.day) + interval '1 month')::date - date_trunc('month', d.day)::date,
               count(*), count(*) FILTER (WHERE d.quality <> 'measured'), count(p.eur), coalesce(bit_or(p.flags), 0),
               m.priced_key
        FROM consumption.readings d
        JOIN consumption.meters m ON m.meter_id = d.meter_id
        LEFT JOIN consumption.priced_days p
          ON p.meter_id = d.meter_id AND p.day = d.day AND p.wh = d.wh AND p.extra IS NOT DISTINCT FROM d.extra
        GROUP BY d.meter_id, date_trunc('month', d.day), m.energy, m.priced_key
    """)


def downgrade() -> None:
    op.drop_column('price_queue', 'since', schema='consumption')
    op.drop_table('monthly_rollups', schema='consumption')
