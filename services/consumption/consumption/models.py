"""Tables of the consumption service (schema ``consumption``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

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

# Meters whose readings, contract or catalogue changed since they were last priced.
price_queue = sa.Table(
    "price_queue", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
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
