"""the Métropole's aggregates as published, per level and year (secrecy applied), and the years whose rollups
changed since, logged by a trigger on the rollups for the worker that recomputes them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'aggregate_runs',
        sa.Column('level', sa.Text(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('min_homes', sa.Integer(), nullable=False),
        sa.Column('max_share', sa.Float(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('level', 'year', name=op.f('pk_aggregate_runs')),
        schema='consumption')
    op.create_table(
        'aggregate_results',
        sa.Column('level', sa.Text(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('area', sa.Text(), nullable=False),
        sa.Column('energy', sa.Text(), nullable=False),
        sa.Column('dimension', sa.Text(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('cell', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('level', 'year', 'area', 'energy', 'dimension', 'value',
                                name=op.f('pk_aggregate_results')),
        schema='consumption')
    op.create_table(
        'aggregate_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_aggregate_changes')),
        schema='consumption')
    op.create_index(op.f('ix_consumption_aggregate_changes_year'), 'aggregate_changes', ['year'], unique=False,
                    schema='consumption')
    # Every write of the rollups (the pricing worker, an erasure, a repair by hand) logs its years, and the next
    # ones (their trend is against it): one row per statement and year, never a row lock another writer waits on.
    op.execute("""
        CREATE FUNCTION consumption.log_rollup_years() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO consumption.aggregate_changes (year)
          SELECT DISTINCT y FROM (SELECT extract(year FROM month)::int AS year FROM changed) c,
                                 LATERAL (VALUES (c.year), (c.year + 1)) v(y);
          RETURN NULL;
        END $$
    """)
    for event, table in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(f"CREATE TRIGGER rollups_{event.lower()}_logged AFTER {event} ON consumption.monthly_rollups "
                   f"REFERENCING {table} TABLE AS changed FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION consumption.log_rollup_years()")
    # The years already rolled up, computed by the worker once it runs.
    op.execute("""
        INSERT INTO consumption.aggregate_changes (year)
        SELECT y FROM generate_series(2010, 2040) y
        WHERE EXISTS (SELECT 1 FROM consumption.monthly_rollups
                      WHERE month >= make_date(y, 1, 1) AND month < make_date(y + 1, 1, 1))
    """)


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER rollups_{event}_logged ON consumption.monthly_rollups")
    op.execute("DROP FUNCTION consumption.log_rollup_years()")
    op.drop_table('aggregate_changes', schema='consumption')
    op.drop_table('aggregate_results', schema='consumption')
    op.drop_table('aggregate_runs', schema='consumption')
