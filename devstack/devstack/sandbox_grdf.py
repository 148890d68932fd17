"""The ADICT sandbox as a real process for the test stack, and the ingest-grdf settings to reach it."""
from __future__ import annotations

from pathlib import Path

from devstack.sandboxes import SandboxHandle, spawn, wait_http

CLIENT_ID = "metroenergies-grdf-test"
CLIENT_SECRET = "metroenergies-grdf-test-secret"


def start(workdir: Path, ports: dict[str, int], *, per_second: float = 20.0,
          per_day: int = 2_400_000) -> SandboxHandle:
    """GRDF's 1 call/s and 6 000/day would make a 3-year backfill last minutes: tests raise both, on the
    service's side, and switch the sandbox's own gate off (its quotas are tested in its own suite)."""
    port = ports["grdf"]
    url = f"http://127.0.0.1:{port}"
    process = spawn(["-m", "tests.sandboxes.grdf", "--port", str(port), "--client-id", CLIENT_ID,
                     "--client-secret", CLIENT_SECRET, "--rate-per-second", "0", "--daily-cap", "0"],
                    workdir / f"grdf-{port}.log")
    wait_http(f"{url}/_sandbox/clock", process)
    prefix = "METRO_INGEST_GRDF_"
    env = {f"{prefix}ADICT_URL": url, f"{prefix}CLIENT_ID": CLIENT_ID, f"{prefix}CLIENT_SECRET": CLIENT_SECRET,
           f"{prefix}QUOTA_PER_SECOND": str(per_second), f"{prefix}QUOTA_PER_DAY": str(per_day),
           # Pending rights are listed every second; the full listing of active rights stays rare so
           # that the fault tests know which call meets the injected fault (a data call, not a listing).
           f"{prefix}ACCESS_RIGHTS_POLL_S": "1", f"{prefix}ACCESS_RIGHTS_FULL_CHECK_S": "3600",
           f"{prefix}REVOKE_BACKOFF_S": "2",
           f"{prefix}LEASE_SECONDS": "8", f"{prefix}RETRY_BASE_S": "0.2", f"{prefix}BACKOFF_BASE_S": "30"}
    return SandboxHandle("grdf", process, url=url, service_env=env,
                         info={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
