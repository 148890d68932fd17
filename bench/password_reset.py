"""Does `POST /api/v1/auth/password-reset` tell whether an address has an account by how long it takes?

The gateway and notify run as real processes (the SMTP sink too, so the known address's link is really sent).
Requests for a known and an unknown address alternate on one keep-alive connection, so that work left behind
by one request would show in the next; the unknown address is the baseline measured in the same run.
Per-account rate limiting stops making links after a few an hour: those requests still do the lookup.

Run: uv run python -m bench.password_reset [--requests 300]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from devstack import sandbox_smtp
from devstack.client import ApiUser
from devstack.stack import Stack, reset_database, reset_vhost

ROOT = Path(__file__).resolve().parents[1]
BASE_PORT = 28500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="per address")
    args = parser.parse_args()
    work = ROOT / "test-artifacts" / "bench-password-reset"
    sink = sandbox_smtp.start(work / "sandboxes", {"smtp": 28525, "smtp_web": 28526})
    stack = Stack(database_url=reset_database("metroenergies_bench_reset"),
                  amqp_url=reset_vhost("metro_bench_reset"), base_port=BASE_PORT, log_dir=work / "logs",
                  extra_env={**sink.service_env, "{P}LOG_LEVEL": "WARNING"})
    try:
        stack.start_all(("gateway", "notify"))
        known = ApiUser(stack.url("gateway")).signup().email
        unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
        times: dict[str, list[float]] = {known: [], unknown: []}
        with httpx.Client(base_url=stack.url("gateway") + "/api/v1", timeout=30) as http:
            bodies = set()
            for i in range(2 * args.requests + 20):
                email = (known, unknown)[i % 2]
                t0 = time.perf_counter()
                r = http.post("/auth/password-reset", json={"email": email})
                elapsed = time.perf_counter() - t0
                assert r.status_code == 202, r.text
                bodies.add(r.text)
                if i >= 20:  # the first ones warm the connection pools
                    times[email].append(elapsed * 1000)
        assert len(bodies) == 1, bodies
        for label, email in (("known address  ", known), ("unknown address", unknown)):
            ms = sorted(times[email])
            print(f"{label}: median {statistics.median(ms):6.2f} ms   p90 {ms[int(0.9 * len(ms))]:6.2f} ms   "
                  f"({len(ms)} requests)")
        ratio = statistics.median(times[known]) / statistics.median(times[unknown])
        print(f"known / unknown median: {ratio:.2f} (1.00 = indistinguishable); same body for both: yes")
    finally:
        stack.stop_all()
        sink.stop()
        # Nothing is kept for a later run: the broker would carry the vhost's queues at every start.
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", "metro_bench_reset"], capture_output=True,
                       timeout=120)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                        'DROP DATABASE IF EXISTS "metroenergies_bench_reset" WITH (FORCE)'],
                       capture_output=True)


if __name__ == "__main__":
    main()
