"""The command line every service shares: ``python -m <package> serve|migrate|...``."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable

import uvicorn

from metro import dlq
from metro.app import ServiceSpec, consumers_of, create_service_app, queue_name
from metro.migrations import upgrade
from metro.services import PORTS
from metro.settings import ServiceSettings

Command = Callable[[argparse.Namespace, ServiceSettings], object]


def main(spec_factory: Callable[[], ServiceSpec], settings_factory: Callable[[], ServiceSettings],
         commands: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None] | None]] | None = None,
         argv: list[str] | None = None) -> None:
    spec = spec_factory()
    parser = argparse.ArgumentParser(prog=f"python -m {spec.name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API and its workers")
    serve.add_argument("--port", type=int)
    serve.add_argument("--host")
    sub.add_parser("migrate", help="apply this service's migrations")
    dead = sub.add_parser("dlq", help="list, show or replay this service's dead letters")
    dead_sub = dead.add_subparsers(dest="dlq_command", required=True)
    dead_sub.add_parser("list", help="one line per dead letter: event id, queue, event, attempts, reason")
    dead_sub.add_parser("show", help="a dead letter in full").add_argument("id", help="the event id")
    replay = dead_sub.add_parser("replay", help="send dead letters back to their queue with their attempts reset")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="the event id")
    which.add_argument("--all", action="store_true", help="every dead letter of the service")
    for name, (_, configure) in (commands or {}).items():
        p = sub.add_parser(name)
        if configure:
            configure(p)
    args = parser.parse_args(argv)
    settings = settings_factory()
    if args.command == "serve":
        port = args.port or settings.port or PORTS[spec.name]
        # The metrics server (metro.observe) listens on the same host as the API.
        settings.port, settings.host = port, args.host or settings.host
        app = create_service_app(spec, settings)
        # proxy_headers off: a service behind a proxy trusts it by its own setting (gateway.edge).
        uvicorn.run(app, host=settings.host, port=port, log_config=None,
                    access_log=False, timeout_graceful_shutdown=5, proxy_headers=False)
    elif args.command == "migrate":
        upgrade(spec.package_dir, settings.database_url)
        print(f"{spec.name}: migrated")
    elif args.command == "dlq":
        queues = [queue_name(spec, purpose) for purpose in consumers_of(spec)]
        sys.exit(asyncio.run(dead_letters(args, settings.amqp_url, queues)))
    else:
        fn = commands[args.command][0]
        result = fn(args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        sys.exit(result if isinstance(result, int) else 0)


async def dead_letters(args: argparse.Namespace, amqp_url: str, queues: list[str]) -> int:
    if args.dlq_command == "replay":
        replayed = await dlq.replay(amqp_url, queues, None if args.all else args.id)
        for letter in replayed:
            print(f"replayed {letter.event_id} to {letter.queue}")
        print(f"{len(replayed)} dead letter(s) replayed")
        return 0 if replayed or args.all else 1
    letters = await dlq.list_dead_letters(amqp_url, queues)
    if args.dlq_command == "list":
        for letter in letters:
            s = letter.summary()
            print(f"{s['id']}  {s['queue']}  {s['event']}  attempts={s['attempts']}  {s['dead_since'] or '-'}  "
                  f"{s['reason'][:120]}")
        print(f"{len(letters)} dead letter(s) in {', '.join(q + '.dlq' for q in queues) or 'no queue'}")
        return 0
    shown = [x for x in letters if x.event_id == args.id]
    for letter in shown:
        try:
            body = json.loads(letter.body)
        except ValueError:
            body = letter.body.decode(errors="replace")
        print(json.dumps({**letter.summary(), "headers": letter.headers, "body": body}, indent=2, default=str,
                         ensure_ascii=False))
    if not shown:
        print(f"no dead letter {args.id}", file=sys.stderr)
    return 0 if shown else 1
