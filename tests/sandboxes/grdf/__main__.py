"""Run the ADICT sandbox: `uv run python -m tests.sandboxes.grdf --port 9002`."""
from __future__ import annotations

import argparse

import uvicorn

from . import SandboxConfig, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="GRDF ADICT v2 sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9002)
    parser.add_argument("--client-id", default=SandboxConfig.client_id)
    parser.add_argument("--client-secret", default=SandboxConfig.client_secret)
    parser.add_argument("--rate-per-second", type=float, default=1.0, help="0 disables the per-second quota")
    parser.add_argument("--daily-cap", type=int, default=6000, help="0 disables the daily quota")
    args = parser.parse_args()
    config = SandboxConfig(client_id=args.client_id, client_secret=args.client_secret,
                           rate_per_second=args.rate_per_second or None, daily_cap=args.daily_cap or None)
    uvicorn.run(create_app(config), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
