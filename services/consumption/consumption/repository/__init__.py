"""Every SQL statement of the consumption service, by what it reads and writes; each module holds one kind.
Callers use `repository.<name>` whatever module holds it."""

from consumption.repository.aggregates import (CELLS, DUE, PUBLISHED, aggregate_cells, changes_of, due_years,
                                               forget_changes, lock_aggregates, published, store_published,
                                               try_lock_aggregates)
from consumption.repository.episodes import (episodes_touching, priced_days_of, recent_episodes, record_episodes)
from consumption.repository.landlord import (HELD_MONTH, held_month)
from consumption.repository.meters import (CONTRACT_COLUMNS, METER_AND_CONTRACTS, METER_COLUMNS, account_meters,
                                           accounts_with_meters, contracts_of, erased_meters, held_meters,
                                           live_meters, lock_meters, mark_erased, meter_and_contracts, meter_contracts,
                                           meter_info, meter_owner, owned_meters, profile_of,
                                           upsert_contract, upsert_meter, upsert_profile)
from consumption.repository.peers import (COMPARISON_DATA, DUE_PEER_PERIODS, FIRST_GROUP, comparison_data,
                                          due_peer_periods, export_snapshot, first_peer_group, forget_peer_periods,
                                          import_snapshot, peer_changes_of, peer_homes, request_peer_periods,
                                          store_peer_groups, try_lock_peers)
from consumption.repository.priced_days import (CREATE_PRICED_STAGE, FROM_ARRAYS, FROM_READ_MODEL, MERGE_PRICED_STAGE,
                                                POINT_JSON, READ_MODEL_CURRENT, READ_MODEL_DAYS, SERIES,
                                                SERIES_OF_DAYS, SERIES_STATEMENTS, STEP_INTERVALS, UNPRICED,
                                                clear_priced_days, meters_to_price, priced_range, series_points,
                                                store_priced_days, unpriced_readings)
from consumption.repository.queues import (claim, claim_rows, enqueue, pricing_backlog, queue_pricing,
                                           queue_scans_and_pricing, requeue_pricing)
from consumption.repository.readings import (CREATE_STAGE, MERGE_STAGE, MeterReadings, copy_merge, curve_days, daily,
                                             delete_readings, last_day, manual_days, max_power_days, meter_days_total,
                                             newest_days, stream_daily, upsert_curve_days, upsert_readings)
from consumption.repository.renovations import (AROUND_WORKS, around_works, holder_renovations, programme_renovations,
                                                upsert_renovation)
from consumption.repository.rollups import (PERIOD_TOTALS, PROFILED_METERS, ROLLUP_MONTHS, SUMMARY_DATA,
                                            period_totals, rebuild_rollups, roll_up, rollups_of,
                                            stream_period_totals, summary_data)
from consumption.repository.statements import (insert_statement, meter_statements, statement_meter)
from consumption.repository.summaries import (STORE_SUMMARY, STORED_SUMMARIES, store_summary, stored_summaries,
                                              summarised_meters)
from consumption.repository.tariff_catalogues import (catalogue, catalogue_versions, insert_catalogue,
                                                      latest_catalogue_ids)

__all__ = ["AROUND_WORKS", "CELLS", "CONTRACT_COLUMNS", "CREATE_PRICED_STAGE", "CREATE_STAGE", "DUE", "DUE_PEER_PERIODS",
           "COMPARISON_DATA", "FIRST_GROUP", "FROM_ARRAYS", "comparison_data", "due_peer_periods", "export_snapshot",
           "first_peer_group", "forget_peer_periods", "import_snapshot", "peer_changes_of", "peer_homes",
           "request_peer_periods", "store_peer_groups", "try_lock_peers",
           "FROM_READ_MODEL", "HELD_MONTH", "MERGE_PRICED_STAGE", "MERGE_STAGE", "METER_AND_CONTRACTS",
           "METER_COLUMNS", "MeterReadings", "PERIOD_TOTALS", "POINT_JSON", "PROFILED_METERS", "PUBLISHED",
           "READ_MODEL_CURRENT", "READ_MODEL_DAYS", "ROLLUP_MONTHS", "SERIES", "SERIES_OF_DAYS", "SERIES_STATEMENTS",
           "STEP_INTERVALS", "STORED_SUMMARIES", "STORE_SUMMARY", "SUMMARY_DATA", "UNPRICED", "account_meters",
           "accounts_with_meters", "aggregate_cells", "around_works", "catalogue", "catalogue_versions", "changes_of",
           "claim", "claim_rows", "clear_priced_days", "contracts_of", "copy_merge", "curve_days", "daily",
           "delete_readings", "due_years", "enqueue", "episodes_touching", "erased_meters", "forget_changes",
           "held_meters", "held_month", "holder_renovations", "insert_catalogue", "insert_statement", "last_day",
           "latest_catalogue_ids", "live_meters", "lock_aggregates", "lock_meters", "manual_days", "mark_erased",
           "max_power_days", "meter_and_contracts", "meter_contracts", "meter_days_total", "meter_info", "meter_owner",
           "meter_statements", "meters_to_price", "newest_days", "owned_meters", "period_totals",
           "priced_days_of", "priced_range", "pricing_backlog", "profile_of",
           "programme_renovations", "published", "queue_pricing", "queue_scans_and_pricing", "recent_episodes",
           "record_episodes", "rebuild_rollups", "requeue_pricing", "roll_up", "rollups_of", "series_points", "statement_meter", "store_priced_days",
           "store_published", "store_summary", "stored_summaries", "stream_daily",
           "stream_period_totals", "summarised_meters",
           "summary_data", "try_lock_aggregates", "unpriced_readings", "upsert_contract", "upsert_curve_days",
           "upsert_meter", "upsert_profile", "upsert_readings", "upsert_renovation"]
