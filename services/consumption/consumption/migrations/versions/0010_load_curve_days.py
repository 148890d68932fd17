"""load curve and daily maximum power, one row per meter-day, partitioned by quarter

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

YEARS = range(2023, 2033)


def upgrade() -> None:
    op.create_table('load_curve_days',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('step_minutes', sa.SmallInteger(), nullable=True),
    sa.Column('watts', postgresql.ARRAY(sa.Integer()), nullable=True),
    sa.Column('max_va', sa.Integer(), nullable=True),
    sa.Column('max_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('collected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'day', name=op.f('pk_load_curve_days')),
    schema='consumption',
    postgresql_partition_by='RANGE (day)'
    )
    # One partition per quarter (24 months of curve are 8 of them); the default catches anything outside.
    for year in YEARS:
        for q in range(4):
            start, end = f"{year}-{3 * q + 1:02d}-01", (f"{year}-{3 * q + 4:02d}-01" if q < 3 else f"{year + 1}-01-01")
            op.execute(f"CREATE TABLE consumption.load_curve_days_{year}q{q + 1} PARTITION OF "
                       f"consumption.load_curve_days FOR VALUES FROM ('{start}') TO ('{end}')")
    op.execute("CREATE TABLE consumption.load_curve_days_default PARTITION OF consumption.load_curve_days DEFAULT")


def downgrade() -> None:
    op.drop_table('load_curve_days', schema='consumption')
