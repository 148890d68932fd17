"""Tables of the consumption service (schema ``consumption``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "consumption"
metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Ownership and profile projected from consent's `meter.declared` / `dwelling.updated` facts.
meters = sa.Table(
    "meters", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), index=True),
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("dso", sa.Text, nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # A tombstone without the account: late readings for an erased meter are dropped, not stored.
    sa.Column("erased_at", sa.DateTime(timezone=True)),
    # consent's accuracy control: the DSO's address differs from the dwelling and nobody has resolved it, so
    # readings are kept but never shown. `hold_at` is when consent decided it: an older fact never wins.
    sa.Column("address_hold", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hold_at", sa.DateTime(timezone=True)),
    # The contract and tariff catalogue its `priced_days` were priced with (euros.pricing_key).
    sa.Column("priced_key", sa.Text),
    # Raised by the pricing worker each time it prices the meter: a stored summary names the one it was read at.
    sa.Column("priced_version", sa.BigInteger, nullable=False, server_default=sa.text("0")),
)

# The big table: one row per meter and local day, energy in integer Wh, partitioned by year.
readings = sa.Table(
    "readings", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("wh", sa.BigInteger, nullable=False),
    sa.Column("quality", sa.Text, nullable=False, server_default="measured"),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("extra", JSONB),
    sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    postgresql_partition_by="RANGE (day)",
)

PARTITION_YEARS = range(2010, 2041)

# The days each source (the DSO channel) delivered, kept at ingestion so that the data-lag probe never scans the
# readings: a batch adds only its newest day per source, and only when newer than the newest stored, so the table
# grows by about one row per source and day (11 000 rows for 10 sources over 3 years).
source_days = sa.Table(
    "source_days", metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
)

# The load curve and the daily maximum power (Enedis Data Connect; SGE's R151 maxima stay in the readings' `extra`):
# one row per meter and local day, the day's average powers in W as one integer array at its step from local midnight
# (46 or 50 half-hours on DST days, NULL where the DSO sent nothing), partitioned by quarter. About 230 bytes a day
# at PT30M: 370 000 meters x 730 days is about 60 GB, each quarter's partition a few GB.
load_curve_days = sa.Table(
    "load_curve_days", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("step_minutes", sa.SmallInteger),
    sa.Column("watts", ARRAY(sa.Integer)),
    sa.Column("max_va", sa.Integer),
    sa.Column("max_at", sa.DateTime(timezone=True)),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    postgresql_partition_by="RANGE (day)",
)

LOAD_CURVE_PARTITION_YEARS = range(2023, 2033)

# The read model of euros: each reading priced once, by the pricing worker, with the Wh and HP/HC split it was
# priced from. A row is current while those still equal the reading's and the meter's `priced_key` is the key
# of its contract and catalogue in force; otherwise the day is priced again (and, meanwhile, on the fly).
priced_days = sa.Table(
    "priced_days", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("wh", sa.BigInteger, nullable=False),
    sa.Column("extra", JSONB),
    # energy + subscription, unrounded (6 decimals each, as pricing.DayPrice); NULL: no tariff for that day.
    sa.Column("eur", sa.Numeric(18, 6)),
    # euros.SPLIT_ESTIMATED | euros.CARRIED: the HP/HC split was estimated, a figure was carried from an earlier
    # version.
    sa.Column("flags", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    postgresql_partition_by="RANGE (day)",
)

# Per meter and month, kept by the pricing worker from the readings and their priced days (whole months, recomputed
# from those tables each time, so a replay changes nothing): what comparisons, professional reports and the
# Métropole's aggregates read instead of scanning the daily table. `month` is its first day.
monthly_rollups = sa.Table(
    "monthly_rollups", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("wh", sa.BigInteger, nullable=False),
    # Unrounded (as priced_days) over the days priced with a tariff; NULL when none was.
    sa.Column("eur", sa.Numeric(18, 6)),
    sa.Column("days", sa.SmallInteger, nullable=False),  # in the month
    sa.Column("days_present", sa.SmallInteger, nullable=False),
    sa.Column("days_estimated", sa.SmallInteger, nullable=False),  # present, but estimated by the DSO
    sa.Column("days_priced", sa.SmallInteger, nullable=False),  # present with euros
    sa.Column("flags", sa.SmallInteger, nullable=False, server_default=sa.text("0")),  # euros.SPLIT_ESTIMATED | …
    # The pricing (euros.pricing_key) its euros come from.
    sa.Column("priced_key", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    postgresql_partition_by="RANGE (month)",
)

# The Métropole's aggregates as published, per level (municipality, iris) and year: computed by the worker
# (consumption.publication), secrecy applied before they are stored, so nothing here is withheld by its reader.
aggregate_runs = sa.Table(
    "aggregate_runs", metadata,
    sa.Column("level", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    # The secrecy rules applied: a run under other rules is never served.
    sa.Column("min_homes", sa.Integer, nullable=False),
    sa.Column("max_share", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)

# One row per published or withheld cell of a run, as the analysts read it. `area` is '' for the Métropole's
# total, `dimension` and `value` '' for an area's own cell.
aggregate_results = sa.Table(
    "aggregate_results", metadata,
    sa.Column("level", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("area", sa.Text, primary_key=True),
    sa.Column("energy", sa.Text, primary_key=True),
    sa.Column("dimension", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("cell", JSONB, nullable=False),
)

# Years whose rollups changed since their aggregates were computed (and the next ones, whose trend is against
# them): logged by a trigger on monthly_rollups, one row per statement and year, deleted once recomputed.
aggregate_changes = sa.Table(
    "aggregate_changes", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("year", sa.Integer, nullable=False, index=True),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")),
)

# Works declared on a building or a dwelling (renovation.declared): what the before/after figures read.
renovations = sa.Table(
    "renovations", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("holder_id", UUID(as_uuid=True), nullable=False, index=True),  # the account or the organisation
    sa.Column("building_id", UUID(as_uuid=True)),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("works", sa.Text, nullable=False),
    sa.Column("programme", sa.Text, index=True),
    sa.Column("heating_energy", sa.Text),
    sa.Column("meter_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# The summary's figures of a meter as last computed (summary.meter_entry, served as stored): valid while the meter
# keeps the priced_version and the degree days it was computed at, and waits for no pricing.
meter_summaries = sa.Table(
    "meter_summaries", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("priced_version", sa.BigInteger, nullable=False),
    sa.Column("degree_days", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the JSON as served (its keys in their order)
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# The peer statistics kept by the worker (consumption.peer_statistics), per energy and period of whole months: the
# periods it keeps (the app's own: recent months and years, and those asked for lately), each as last computed.
peer_periods = sa.Table(
    "peer_periods", metadata,
    sa.Column("energy", sa.Text, primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("period_end", sa.Date, primary_key=True),
    # Last asked for (or named among the app's own periods): kept 35 days after.
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # When the computation's snapshot was taken; NULL until the first one.
    sa.Column("computed_at", sa.DateTime(timezone=True)),
    sa.Column("degree_days", sa.Text),  # the degree-day versions it normalised with (summary.degree_days_version)
    sa.Column("homes", sa.Integer),  # the profiled homes of the energy it read
    sa.Column("seconds", sa.Float),
)

# Each period's groups: per level of comparison.LEVELS and key (its criteria's values, as JSON), the distribution of
# each metric (comparison.Distribution: the values, or their quantiles beyond comparison.EXACT_VALUES). No meter and
# no account: a group of fewer than 9 homes (10 with one described since) is not kept.
peer_groups = sa.Table(
    "peer_groups", metadata,
    sa.Column("energy", sa.Text, primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("period_end", sa.Date, primary_key=True),
    sa.Column("level", sa.SmallInteger, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("kwh_n", sa.Integer, nullable=False),
    sa.Column("kwh", ARRAY(sa.Float(53)), nullable=False),
    sa.Column("per_m2_n", sa.Integer, nullable=False),
    sa.Column("per_m2", ARRAY(sa.Float(53)), nullable=False),
    sa.Column("per_occupant_n", sa.Integer, nullable=False),
    sa.Column("per_occupant", ARRAY(sa.Float(53)), nullable=False),
    sa.ForeignKeyConstraint(["energy", "period_start", "period_end"],
                            ["consumption.peer_periods.energy", "consumption.peer_periods.period_start",
                             "consumption.peer_periods.period_end"], ondelete="CASCADE"),
)

# What changed since a period was computed, logged by triggers: a rollup of one of its months, or any dwelling
# profile or meter's owner. Read in the computation's snapshot and deleted with its result: never a row lock a writer
# waits on, never a change lost between a read and the next.
peer_changes = sa.Table(
    "peer_changes", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")),
    sa.Index("ix_consumption_peer_changes_period", "energy", "period_start", "period_end"),
)

# Meters whose readings, contract or catalogue changed since they were last priced.
price_queue = sa.Table(
    "price_queue", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # The earliest day whose reading changed (new readings); NULL: every day is looked at (a contract, a catalogue).
    sa.Column("since", sa.Date),
)

# Projected from consent's `dwelling.updated`: the comparison criteria only, never the address.
profiles = sa.Table(
    "profiles", metadata,
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("profile", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# One row per meter and origin: the DSO's contract (`contract.changed`) wins over the resident's declaration.
contracts = sa.Table(
    "contracts", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("origin", sa.Text, primary_key=True),  # "dso" or "resident"
    sa.Column("tariff_option", sa.Text, nullable=False),  # BASE, HPHC, TEMPO
    sa.Column("subscribed_kva", sa.Integer),
    sa.Column("offpeak_hours", sa.Text),
    sa.Column("offpeak_hours_per_day", sa.Numeric(5, 2)),
    sa.Column("start", sa.Date),
    sa.Column("end", sa.Date),
    sa.Column("status", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("supplier_offer", sa.Text),  # as the resident names it; the DSO does not know it
)

# Every catalogue an administrator uploaded (and the bundled one at first start); the highest id of each kind is
# in force. `energy` names the kind: the electricity or gas tariffs, or the degree days ("degree_days").
tariff_catalogues = sa.Table(
    "tariff_catalogues", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("energy", sa.Text, nullable=False, index=True),
    sa.Column("csv", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("uploaded_by", UUID(as_uuid=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Episodes already announced: the primary key makes a restart or a replay publish nothing twice.
anomaly_episodes = sa.Table(
    "anomaly_episodes", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("episode_key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date, nullable=False),
    sa.Column("expected_wh", sa.BigInteger, nullable=False),
    sa.Column("observed_wh", sa.BigInteger, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Meters with new readings since their last anomaly scan.
anomaly_scan_queue = sa.Table(
    "anomaly_scan_queue", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# What remains of an erased meter: a hash, so that a late `readings.collected` is dropped, never stored,
# while nothing in the database still names the meter.
erased_meters = sa.Table(
    "erased_meters", metadata,
    sa.Column("subject_hash", sa.Text, primary_key=True),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# What a resident states of a meter no channel reads: an index with its date, or a delivery (fuel oil, wood). The
# days between two statements are spread from them as `estimated` readings (source `manual`).
statements = sa.Table(
    "statements", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("taken_on", sa.Date, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # index, delivery
    sa.Column("value", sa.Numeric(14, 3), nullable=False),
    sa.Column("unit", sa.Text, nullable=False),  # kWh, m3, L, stere, kg
    # Gas: kWh per m³ as printed on the bill.
    sa.Column("conversion_coefficient", sa.Numeric(6, 3)),
    # The meter was exchanged since the previous statement: `value` is the new meter's index.
    sa.Column("meter_change", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("old_meter_last_index", sa.Numeric(14, 3)),
    sa.Column("new_meter_first_index", sa.Numeric(14, 3)),
    # The accuracy control's finding the resident confirmed (e.g. statement_above_history); NULL: none.
    sa.Column("confirmed_check", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("meter_id", "taken_on"),
)
