"""An outbox relay as its own process, for the crash tests. With METRO_CRASH_AFTER_PUBLISH=1 it dies
(as SIGKILL would leave it) after the broker confirmed a message and before the row is marked published."""
from __future__ import annotations

import asyncio
import os
import sys


from metro.bus import Bus
from metro.db import Database, make_metadata
from metro.outbox import Outbox, OutboxRelay, outbox_table

metadata = make_metadata("relaytest")
table = outbox_table(metadata)


class CrashingBus(Bus):
    async def publish(self, envelope):
        await super().publish(envelope)
        os._exit(137)


async def main(database_url: str, amqp_url: str) -> None:
    db = Database(database_url, pool_size=2)
    bus = CrashingBus(amqp_url) if os.environ.get("METRO_CRASH_AFTER_PUBLISH") else Bus(amqp_url)
    await bus.connect()
    relay = OutboxRelay(db, bus, Outbox(table, "relaytest"))
    while await relay.publish_pending():
        pass
    await bus.close()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
