import argparse
import asyncio
from pathlib import Path

from tests.sandboxes.smtp.server import serve

parser = argparse.ArgumentParser(prog="python -m tests.sandboxes.smtp")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=1025)
parser.add_argument("--web-port", type=int, default=1080)
parser.add_argument("--dir", type=Path, default=Path("smtp-sink"))
args = parser.parse_args()
asyncio.run(serve(args.host, args.port, args.web_port, args.dir))
