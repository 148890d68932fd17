"""The command line every service shares: ``python -m <package> serve|migrate|...``."""
from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

import uvicorn

from metro.app import ServiceSpec, create_service_app
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
    else:
        fn = commands[args.command][0]
        result = fn(args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        sys.exit(result if isinstance(result, int) else 0)
