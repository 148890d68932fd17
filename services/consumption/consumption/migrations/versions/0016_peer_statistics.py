"""peer statistics kept by the worker: the periods it keeps, their groups' distributions, and the changes logged
since (by triggers on the rollups, the dwelling profiles and the meters' owners)

Revision ID: 0016
Revises: 0015_source_days
Create Date: 2026-12-07 06:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015_source_days'
branch_labels = None
depends_on = None

PERIOD = ('energy', 'period_start', 'period_end')


def upgrade() -> None:
    op.create_table(
        'peer_periods',
        sa.Column('energy', sa.Text(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('degree_days', sa.Text(), nullable=True),
        sa.Column('homes', sa.Integer(), nullable=True),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(*PERIOD, name=op.f('pk_peer_periods')),
        schema='consumption')
    op.create_table(
        'peer_groups',
        sa.Column('energy', sa.Text(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('kwh_n', sa.Integer(), nullable=False),
        sa.Column('kwh', postgresql.ARRAY(sa.Float(precision=53)), nullable=False),
        sa.Column('per_m2_n', sa.Integer(), nullable=False),
        sa.Column('per_m2', postgresql.ARRAY(sa.Float(precision=53)), nullable=False),
        sa.Column('per_occupant_n', sa.Integer(), nullable=False),
        sa.Column('per_occupant', postgresql.ARRAY(sa.Float(precision=53)), nullable=False),
        sa.ForeignKeyConstraint(list(PERIOD), [f'consumption.peer_periods.{c}' for c in PERIOD],
                                name=op.f('fk_peer_groups_energy_peer_periods'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint(*PERIOD, 'level', 'key', name=op.f('pk_peer_groups')),
        schema='consumption')
    op.create_table(
        'peer_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('energy', sa.Text(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_changes')),
        schema='consumption')
    op.create_index('ix_consumption_peer_changes_period', 'peer_changes', list(PERIOD), unique=False,
                    schema='consumption')
    # A rollup written for one of a kept period's months: one row per statement and period, no lock taken.
    op.execute("""
        CREATE FUNCTION consumption.log_peer_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO consumption.peer_changes (energy, period_start, period_end)
          SELECT DISTINCT p.energy, p.period_start, p.period_end
          FROM (SELECT DISTINCT energy, month FROM changed) c
          JOIN consumption.peer_periods p
            ON p.energy = c.energy AND c.month >= p.period_start AND c.month < p.period_end;
          RETURN NULL;
        END $$
    """)
    for event, table in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(f"CREATE TRIGGER rollups_{event.lower()}_peers AFTER {event} ON consumption.monthly_rollups "
                   f"REFERENCING {table} TABLE AS changed FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION consumption.log_peer_rollups()")
    # A dwelling described or changed, a meter's owner, energy or erasure: every kept period may have moved.
    op.execute("""
        CREATE FUNCTION consumption.log_peer_homes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO consumption.peer_changes (energy, period_start, period_end)
          SELECT energy, period_start, period_end FROM consumption.peer_periods;
          RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER profiles_peers AFTER INSERT OR UPDATE OR DELETE ON consumption.profiles "
               "FOR EACH STATEMENT EXECUTE FUNCTION consumption.log_peer_homes()")
    op.execute("CREATE TRIGGER meters_peers AFTER UPDATE OF account_id, energy, erased_at OR DELETE "
               "ON consumption.meters FOR EACH STATEMENT EXECUTE FUNCTION consumption.log_peer_homes()")


def downgrade() -> None:
    op.execute("DROP TRIGGER meters_peers ON consumption.meters")
    op.execute("DROP TRIGGER profiles_peers ON consumption.profiles")
    op.execute("DROP FUNCTION consumption.log_peer_homes()")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER rollups_{event}_peers ON consumption.monthly_rollups")
    op.execute("DROP FUNCTION consumption.log_peer_rollups()")
    op.drop_table('peer_changes', schema='consumption')
    op.drop_table('peer_groups', schema='consumption')
    op.drop_table('peer_periods', schema='consumption')
