from ingest_local.models import SCHEMA, metadata
from metro.migrations import run_env

run_env(metadata, SCHEMA)
