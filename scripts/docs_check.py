"""`make docs-check`: runs the procedures of docs/ marked runnable against a local stack, and checks the links.

A fenced block whose info string is ``sh runnable`` is a procedure that is safe to run on the local stack; the
blocks of one page run in order in one bash process (``set -euo pipefail``), so a page may define a variable or
open an administrator session (``. scripts/admin-session.sh``) in one block and use it in the next. Other ``sh``
blocks are shown, never run (Kubernetes, production, destructive steps).

    python scripts/docs_check.py            # against `make run` (gateway on 127.0.0.1:8000)
    python scripts/docs_check.py --start    # starts its own stack on the ports of METRO_TEST_SLOT, and stops it
    python scripts/docs_check.py --list     # prints the runnable blocks without running them

Also checked, without a stack: every relative link of docs/ and every alert's runbook_url
(deploy/monitoring/prometheus-rules.yaml) leads to an existing page and heading.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RULES = ROOT / "deploy" / "monitoring" / "prometheus-rules.yaml"
RUNBOOK_BASE = "https://metroenergies.example.org/docs/"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s]+)\)")


@dataclass
class Block:
    page: Path
    line: int
    body: str


def slug(heading: str) -> str:
    """The anchor GitHub and GitLab give a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    text = re.sub(r"[`*_]", "", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(h) for h in HEADING.findall(text)}


def runnable_blocks(page: Path) -> list[Block]:
    text = page.read_text()
    return [Block(page, text[:m.start()].count("\n") + 1, m.group("body"))
            for m in FENCE.finditer(text) if m.group("info").split()[:2] == ["sh", "runnable"]]


def check_links() -> list[str]:
    problems = []
    for page in sorted(DOCS.rglob("*.md")):
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                problems.append(f"{page.relative_to(ROOT)}: link to missing {target}")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(f"{page.relative_to(ROOT)}: no heading for #{anchor} in {dest.relative_to(ROOT)}")
    for alert, url in re.findall(r"- alert: (\w+).*?runbook_url: (\S+)", RULES.read_text(), re.S):
        if not url.startswith(RUNBOOK_BASE):
            problems.append(f"{alert}: runbook_url {url} is not under {RUNBOOK_BASE}")
            continue
        path, _, anchor = url[len(RUNBOOK_BASE):].partition("#")
        page = DOCS / path
        if not page.exists() or anchor not in anchors(page):
            problems.append(f"{alert}: runbook {url} has no section in docs/{path}")
    return problems


def stack_env(base_port: int, database_url: str, amqp_url: str, log_dir: Path) -> dict[str, str]:
    """What the blocks read: where the stack answers, its logs, and the database and broker its commands use."""
    from metro.services import NAMES
    env = {"METRO_URL": f"http://127.0.0.1:{base_port}", "METRO_BASE_PORT": str(base_port),
           "METRO_DATABASE": database_url.rsplit("/", 1)[-1], "METRO_VHOST": amqp_url.rsplit("/", 1)[-1],
           "METRO_LOG_DIR": str(log_dir)}
    for name in NAMES:
        prefix = f"METRO_{name.upper()}_"
        env[prefix + "DATABASE_URL"] = database_url
        env[prefix + "AMQP_URL"] = amqp_url
    return env


def run_page(page: Path, blocks: list[Block], env: dict[str, str]) -> tuple[bool, str]:
    script = ["set -euo pipefail", "cd " + str(ROOT)]
    for i, b in enumerate(blocks):
        script.append(f"echo '>>> block {i + 1} ({page.name}:{b.line})' >&2")
        script.append(b.body)
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", "\n".join(script)], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=600)
    took = time.monotonic() - started
    markers = re.findall(r">>> block (\d+) \(([^)]*)\)", done.stderr)
    where = markers[-1][1] if markers else "?"
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        return False, f"FAILED at {where} (exit {done.returncode}, {took:.1f} s)\n{tail}"
    return True, f"{len(blocks)} block(s) ok in {took:.1f} s"


def start_stack():
    """A private stack, as `make run` starts one, on the ports, database and virtual host of METRO_TEST_SLOT."""
    slot = int(os.environ.get("METRO_TEST_SLOT", "0"))
    var = ROOT / "test-artifacts" / f"docs{slot}"
    base_port = 28000 + 100 * slot
    public = f"http://127.0.0.1:{base_port}"
    os.environ["METRO_GATEWAY_PUBLIC_URL"] = public  # read by the Enedis sandbox for its redirect, and run_local
    sys.path.insert(0, str(ROOT / "scripts"))
    from devstack import sandboxes
    from devstack.stack import Stack, reset_database, reset_vhost
    from run_local import seed_demo

    handles = sandboxes.start_all(var / "sandboxes", {k: v + 100 * slot + 50 for k, v in sandboxes.TEST_PORTS.items()})
    # Links in e-mails and the DSO's redirect lead to this stack's gateway, not to `make run`'s.
    own = {"METRO_NOTIFY_PUBLIC_URL": public}
    stack = Stack(reset_database(f"metroenergies_docs_{slot}"), reset_vhost(f"metro_docs_{slot}"),
                  base_port=base_port, log_dir=var / "logs",
                  extra_env={**{k: v for h in handles.values() for k, v in h.service_env.items()}, **own})
    stack.sandboxes = handles
    try:
        stack.start_all()
        seed_demo(stack)
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack) -> None:
    stack.stop_all()
    for h in stack.sandboxes.values():
        h.stop()
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", stack.amqp_url.rsplit("/", 1)[-1]], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", action="store_true", help="start a private stack (METRO_TEST_SLOT's ports)")
    parser.add_argument("--list", action="store_true", help="print the runnable blocks and stop")
    parser.add_argument("pages", nargs="*", type=Path, help="only these pages (default: every page of docs/)")
    args = parser.parse_args()

    pages = [p.resolve() for p in args.pages] or sorted(DOCS.rglob("*.md"))
    blocks = {p: runnable_blocks(p) for p in pages}
    if args.list:
        for page, found in blocks.items():
            for b in found:
                print(f"--- {page.relative_to(ROOT)}:{b.line}\n{b.body}")
        return 0
    problems = check_links()
    for p in problems:
        print(f"link: {p}")

    stack = None
    if args.start:
        # A time-out's SIGTERM still stops the stack (the finally below, and start_stack's own clean-up).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        stack = start_stack()
        env = stack_env(stack.base_port, stack.database_url, stack.amqp_url, stack.log_dir)
    else:
        env = stack_env(8000, "postgresql+asyncpg://postgres@127.0.0.1:5432/metroenergies",
                        "amqp://guest:guest@127.0.0.1:5672/metroenergies", ROOT / "var" / "logs")
        try:
            import httpx
            httpx.get(env["METRO_URL"] + "/health/ready", timeout=3).raise_for_status()
        except Exception as exc:
            print(f"docs-check: no local stack at {env['METRO_URL']} ({type(exc).__name__}): start `make run`, "
                  "or use --start")
            return 2
    failed = 0
    try:
        for page, found in blocks.items():
            if not found:
                continue
            ok, report = run_page(page, found, env)
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {page.relative_to(ROOT)}: {report}", flush=True)
    finally:
        if stack is not None:
            stop_stack(stack)
    total = sum(len(b) for b in blocks.values())
    print(f"docs-check: {total} runnable block(s) on {sum(1 for b in blocks.values() if b)} page(s), "
          f"{failed} page(s) failed, {len(problems)} link problem(s)")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
