"""uv run python -m tests.sandboxes.local --sftp-port 2223 --control-port 9004 --root DIR"""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from .operators import Operators
from .server import serve


def main() -> None:
    env = os.environ.get
    ap = argparse.ArgumentParser(prog="python -m tests.sandboxes.local", description=__doc__)
    ap.add_argument("--sftp-port", type=int, default=int(env("METRO_LOCAL_SANDBOX_SFTP_PORT", "2223")))
    ap.add_argument("--control-port", type=int, default=int(env("METRO_LOCAL_SANDBOX_CONTROL_PORT", "9004")))
    ap.add_argument("--root", type=Path, default=Path(env("METRO_LOCAL_SANDBOX_ROOT", "/tmp/local-sandbox")))
    ap.add_argument("--host-key", type=Path, help="generated if missing (default: ROOT.host_key)")
    ap.add_argument("--authorized-keys", type=Path, help="OpenSSH authorized_keys file of the platform")
    args = ap.parse_args()
    root = args.root.resolve()
    host_key = args.host_key or root.with_name(root.name + ".host_key")
    authorized = args.authorized_keys.read_text() if args.authorized_keys else None
    asyncio.run(serve(Operators(root), sftp_port=args.sftp_port, control_port=args.control_port,
                      host_key=host_key, authorized_keys_text=authorized))


if __name__ == "__main__":
    main()
