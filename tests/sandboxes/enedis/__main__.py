"""`uv run python -m tests.sandboxes.enedis --port 9001` (the local demo DSO of `make run`)."""
from __future__ import annotations

import argparse
import os

import uvicorn

from .app import create_app
from .state import RegisteredClient, SandboxConfig


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Enedis Data Connect sandbox")
    parser.add_argument("--host", default=env("ENEDIS_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("ENEDIS_SANDBOX_PORT", "9001")))
    parser.add_argument("--client-id", default=env("ENEDIS_SANDBOX_CLIENT_ID", "metroenergies-local"))
    parser.add_argument("--client-secret", default=env("ENEDIS_SANDBOX_CLIENT_SECRET", "metroenergies-local-secret"))
    parser.add_argument("--redirect-uri", default=env(
        "ENEDIS_SANDBOX_REDIRECT_URI", "http://localhost:8001/api/v1/consents/enedis/callback"))
    parser.add_argument("--per-second", type=int, default=int(env("ENEDIS_SANDBOX_PER_SECOND", "5")))
    parser.add_argument("--per-hour", type=int, default=int(env("ENEDIS_SANDBOX_PER_HOUR", "10000")))
    parser.add_argument("--report-refusal", action="store_true")
    args = parser.parse_args()
    config = SandboxConfig(
        clients=[RegisteredClient(args.client_id, args.client_secret, args.redirect_uri)],
        per_second_quota=args.per_second, hourly_quota=args.per_hour, report_refusal=args.report_refusal)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
