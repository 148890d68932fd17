"""uv run python -m tests.sandboxes.sge --sftp-port 2222 --control-port 9003 --root DIR"""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from . import generator as gen
from .server import serve


def main() -> None:
    env = os.environ.get
    ap = argparse.ArgumentParser(prog="python -m tests.sandboxes.sge", description=__doc__)
    ap.add_argument("--sftp-port", type=int, default=int(env("METRO_SGE_SANDBOX_SFTP_PORT", "2222")))
    ap.add_argument("--control-port", type=int, default=int(env("METRO_SGE_SANDBOX_CONTROL_PORT", "9003")))
    ap.add_argument("--root", type=Path, default=Path(env("METRO_SGE_SANDBOX_ROOT", "/tmp/sge-sandbox")),
                    help="SFTP root; files land in ROOT/" + gen.DROP_SUBDIR)
    ap.add_argument("--host-key", type=Path, default=env("METRO_SGE_SANDBOX_HOST_KEY"),
                    help="generated if missing (default: ROOT.host_key, outside the drop)")
    ap.add_argument("--authorized-keys", type=Path, default=env("METRO_SGE_SANDBOX_AUTHORIZED_KEYS"),
                    help="OpenSSH authorized_keys file of the receiver (also settable by the control API)")
    ap.add_argument("--aes-key", default=env("METRO_SGE_SANDBOX_AES_KEY", gen.SANDBOX_AES_KEY.hex()),
                    help="hex AES key, 32 or 64 hex digits")
    ap.add_argument("--pgp-public-key", type=Path, default=env("METRO_SGE_SANDBOX_PGP_PUBLIC_KEY"),
                    help="armored OpenPGP public key of the platform, for pgp subscriptions")
    args = ap.parse_args()

    root = args.root.resolve()
    pub = gen.Publisher(root, aes_key=bytes.fromhex(args.aes_key),
                        pgp_public_key=args.pgp_public_key.read_text() if args.pgp_public_key else None)
    host_key = Path(args.host_key) if args.host_key else root.with_name(root.name + ".host_key")
    authorized = Path(args.authorized_keys).read_text() if args.authorized_keys else None
    asyncio.run(serve(pub, sftp_port=args.sftp_port, control_port=args.control_port, host_key=host_key,
                      authorized_keys_text=authorized))


if __name__ == "__main__":
    main()
