"""The image's layout without a container engine: the gateway installed as a package (not editable, as
deploy/Dockerfile installs it) into a venv of its own, started from outside the checkout, serves the SPA from
the folder the image names (METRO_GATEWAY_WEB_DIST)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from gateway import web

ROOT = Path(__file__).resolve().parents[2]
SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
# Clear of the slot's stack (18000-18013, metrics 18050-18063) and of the second gateway some tests start.
PORT = 18040 + 100 * SLOT
METRICS_PORT = 18045 + 100 * SLOT
DIST = ROOT / "web" / "dist"



def test_the_image_names_the_folder_it_copies_the_spa_into():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    named = re.search(r"METRO_GATEWAY_WEB_DIST=(\S+)", dockerfile).group(1)
    assert re.search(rf"^COPY --from=web /web/dist {re.escape(named)}$", dockerfile, re.M)
    assert "npm run build" in dockerfile


def test_outside_local_mode_a_gateway_without_the_spa_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="no built web app"):
        web.mount_web(FastAPI(), SimpleNamespace(web_dist=tmp_path, local_mode=False))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`uv sync --no-editable` of the gateway alone, as the image's build stage runs it."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    uv = shutil.which("uv") or f"{sys.executable} -m uv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    # uv keeps the wheels it built from the checkout, keyed on pyproject.toml only: without a rebuild the venv
    # gets an older build (a migration added since is missing and the gateway refuses to start). The image's
    # build stage starts with no cache, so builds them afresh too.
    subprocess.run([*uv.split(), "sync", "--frozen", "--no-dev", "--package", "gateway", "--no-editable",
                    "--reinstall-package", "gateway", "--reinstall-package", "metro",
                    "--compile-bytecode", "--quiet"], cwd=ROOT, env=env, check=True, timeout=600)
    return venv


@pytest.mark.e2e
def test_the_installed_gateway_lives_in_its_venv_not_in_the_checkout(installed):
    where = subprocess.run([installed / "bin" / "python", "-c", "import gateway; print(gateway.__file__)"],
                           cwd=installed, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(installed)), where


@pytest.mark.e2e
def test_the_installed_gateway_serves_the_spa_from_the_folder_the_image_names(installed, database_url,
                                                                             amqp_url):
    assert (DIST / "index.html").exists(), "web/dist is built by make web (make test depends on it)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("METRO_")}
    env.update(METRO_GATEWAY_DATABASE_URL=database_url, METRO_GATEWAY_AMQP_URL=amqp_url,
               METRO_GATEWAY_WEB_DIST=str(DIST), METRO_GATEWAY_DB_POOL_SIZE="2",
               METRO_GATEWAY_RUN_WORKERS="false", METRO_GATEWAY_METRICS_PORT=str(METRICS_PORT))
    process = subprocess.Popen([installed / "bin" / "python", "-m", "gateway", "serve", "--port", str(PORT)],
                               cwd=installed, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page = _get_when_up(f"http://127.0.0.1:{PORT}/", process)
        assert page.status_code == 200
        assert page.text == (DIST / "index.html").read_text()
        deep = httpx.get(f"http://127.0.0.1:{PORT}/mes-compteurs", timeout=10)
        assert deep.status_code == 200 and deep.text == page.text
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get_when_up(url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the gateway stopped: {process.stdout.read().decode()[-3000:]}")
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
    raise AssertionError("the gateway did not answer within 120 s")
