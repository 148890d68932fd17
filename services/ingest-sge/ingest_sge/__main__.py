"""python -m ingest_sge serve | migrate | import FILE... | replay [--meter ID] [--prm PRM] [--from DAY]
[--to DAY]"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from functools import partial
from pathlib import Path

from ingest_sge import models, service, worker
from ingest_sge.app import Settings, spec
from metro.cli import main
from metro.collection import ReplayScope, add_replay_arguments, print_counts
from metro.db import Database
from metro.migrations import upgrade_async
from metro.outbox import Outbox


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Files fetched by hand go through the same import as the poller; the running service's relay
    publishes what this writes to the outbox."""
    await upgrade_async(Path(service.__file__).parent, settings.database_url)
    keys, home = worker.keyring_from(settings)
    db = Database.of(settings, "ingest_sge-cli", pool_size=2)
    try:
        batch = [service.DropFile(Path(f).name, Path(f).stat().st_size, Path(f).read_bytes()) for f in args.files]
        async with db.session() as session, session.begin():
            outcomes = await service.import_files(session, Outbox(models.outbox, "ingest_sge"), batch, keys,
                                                  worker.limits_from(settings))
    finally:
        await db.dispose()
        if home:
            shutil.rmtree(home, ignore_errors=True)
    for o in outcomes:
        print(json.dumps(o.view()))
    return 1 if any(o.status == "quarantined" for o in outcomes) else 0


async def replay_command(args: argparse.Namespace, settings: Settings) -> int:
    """Readings derived again from the kept zips; the running service's relay publishes them."""
    db = Database.of(settings, "ingest_sge-replay", pool_size=2)
    try:
        counts = await service.replay(db, Outbox(models.outbox, "ingest_sge"), ReplayScope.from_args(args),
                                      worker.limits_from(settings),
                                      dt.timedelta(days=settings.raw_retention_days))
    finally:
        await db.dispose()
    return print_counts(counts)


def _files(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="SGE files as received (encrypted), named as on the drop")


main(spec, Settings, commands={"import": (import_command, _files),
                               "replay": (replay_command, partial(add_replay_arguments, identifier="PRM"))})
