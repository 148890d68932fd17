"""python -m ingest_local serve | migrate | import OPERATOR FILE... | replay [--meter ID] [--identifier ID]
[--from DAY] [--to DAY]"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from functools import partial
from pathlib import Path

from ingest_local import models, service, worker
from ingest_local.app import Settings, spec
from metro.cli import main
from metro.collection import ReplayScope, add_replay_arguments, print_counts
from metro.db import Database
from metro.migrations import upgrade_async
from metro.outbox import Outbox
from metro.service_auth import ServiceClient, ServiceTokens
from metro.services import INTERNAL


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Files received by hand (e-mail, USB key) go through the same import as the drop; the running service's
    relay publishes what this writes to the outbox."""
    await upgrade_async(Path(service.__file__).parent, settings.database_url)

    db = Database.of(settings, "ingest_local-cli", pool_size=2)
    services = ServiceClient(ServiceTokens.of("ingest_local", settings), {s: settings.url_of(s) for s in INTERNAL})
    try:
        consents = await worker.consents_of(services, args.operator)
        batch = [service.DropFile(Path(f).name, Path(f).stat().st_size, Path(f).read_bytes()) for f in args.files]
        async with db.session() as session, session.begin():
            outcomes = await service.import_files(session, Outbox(models.outbox, "ingest_local"), args.operator,
                                                  batch, via="cli", pending=consents,
                                                  report=worker.reporter(services),
                                                  max_file_bytes=settings.max_file_bytes)
    finally:
        await services.close()
        await db.dispose()
    for o in outcomes:
        print(json.dumps(o.view()))
    return 1 if any(o.status == "quarantined" for o in outcomes) else 0


async def replay_command(args: argparse.Namespace, settings: Settings) -> int:
    """Readings derived again from the kept files; the running service's relay publishes them."""
    db = Database.of(settings, "ingest_local-replay", pool_size=2)
    try:
        counts = await service.replay(db, Outbox(models.outbox, "ingest_local"), ReplayScope.from_args(args),
                                      dt.timedelta(days=settings.raw_retention_days))
    finally:
        await db.dispose()
    return print_counts(counts)


def _files(p: argparse.ArgumentParser) -> None:
    p.add_argument("operator", help="greenalp, cciag or eau_de_grenoble")
    p.add_argument("files", nargs="+", help="the operator's files, named as on the drop")


main(spec, Settings, commands={"import": (import_command, _files),
                               "replay": (replay_command, partial(add_replay_arguments, identifier="identifier"))})
