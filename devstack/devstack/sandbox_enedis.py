"""The Data Connect sandbox as a real process for the test stack, and the ingest-enedis settings to reach it."""
from __future__ import annotations

import os
from pathlib import Path

from devstack.sandboxes import SandboxHandle, spawn, wait_http

CLIENT_ID = "metroenergies-test"
CLIENT_SECRET = "metroenergies-test-secret"


def gateway_callback() -> str:
    public = os.environ.get("METRO_GATEWAY_PUBLIC_URL")
    if public:
        return f"{public.rstrip('/')}/api/v1/consents/enedis/callback"
    slot = int(os.environ.get("METRO_TEST_SLOT", "0"))
    return f"http://127.0.0.1:{18000 + 100 * slot}/api/v1/consents/enedis/callback"


def start(workdir: Path, ports: dict[str, int], *, per_second: int = 5, per_hour: int = 10_000,
          extra_args: list[str] | None = None, api_generation: str = "2026") -> SandboxHandle:
    port = ports["enedis"]
    url = f"http://127.0.0.1:{port}"
    redirect_uri = gateway_callback()
    process = spawn(["-m", "tests.sandboxes.enedis", "--port", str(port), "--client-id", CLIENT_ID,
                     "--client-secret", CLIENT_SECRET, "--redirect-uri", redirect_uri,
                     "--per-second", str(per_second), "--per-hour", str(per_hour), *(extra_args or [])],
                    workdir / f"enedis-{port}.log")
    wait_http(f"{url}/_sandbox/health", process)
    prefix = "METRO_INGEST_ENEDIS_"
    env = {f"{prefix}DATACONNECT_URL": url, f"{prefix}API_GENERATION": api_generation,
           f"{prefix}CLIENT_ID": CLIENT_ID, f"{prefix}CLIENT_SECRET": CLIENT_SECRET,
           f"{prefix}REDIRECT_URI": redirect_uri, f"{prefix}QUOTA_PER_SECOND": str(per_second),
           f"{prefix}QUOTA_PER_HOUR": str(per_hour),
           # Tests restart the service and wait for collection: short leases, quick retries.
           f"{prefix}LEASE_SECONDS": "8", f"{prefix}RETRY_BASE_S": "0.2", f"{prefix}BACKOFF_BASE_S": "30",
           # A consent Enedis has not listed yet is asked about again within seconds, not minutes.
           "METRO_CONSENT_DSO_CHECK_RETRY_BASE": "PT1S", "METRO_CONSENT_DSO_CHECK_INTERVAL": "PT1S"}
    return SandboxHandle("enedis", process, url=url, service_env=env,
                         info={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                               "redirect_uri": redirect_uri, "api_generation": api_generation})
