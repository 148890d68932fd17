"""`make run`: every service and the DSO sandboxes on their usual ports, and a demo resident with data.

Stops everything on Ctrl-C. Uses the database `metroenergies` and the RabbitMQ vhost `metroenergies`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

from devstack import sandboxes
from devstack.client import ApiUser, admin_user
from devstack.enedis_consent import consent_at_dso, create_customer
from devstack.stack import ROOT, Stack

os.environ.setdefault("METRO_GATEWAY_PUBLIC_URL", "http://127.0.0.1:8000")

DEMO_EMAIL = "demo@metroenergies.example.org"
DEMO_PASSWORD = "demo-resident-2026"
DEMO_PRM = "30000000000042"
VAR = ROOT / "var"


def ensure_database() -> str:
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                             "select 1 from pg_database where datname='metroenergies'"],
                            capture_output=True, text=True).stdout.strip()
    if not exists:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "create database metroenergies"], check=True)
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/metroenergies"


def ensure_vhost() -> str:
    vhosts = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True).stdout.split()
    if "metroenergies" not in vhosts:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", "metroenergies"], check=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", "metroenergies", "guest", ".*", ".*", ".*"],
                       check=True)
    return "amqp://guest:guest@127.0.0.1:5672/metroenergies"


def seed_demo(stack: Stack) -> None:
    gateway = stack.url("gateway")
    user = ApiUser(gateway)
    if user.login(DEMO_EMAIL, DEMO_PASSWORD).status_code == 200:
        return
    user.signup(DEMO_EMAIL, DEMO_PASSWORD)
    user.put("/me/dwelling", json={"street": "5 place Grenette", "postal_code": "38000", "municipality": "Grenoble",
                                   "insee_code": "38185", "surface_m2": 68, "occupants": 3, "dwelling_type": "apartment",
                                   "heating_energy": "electricity", "heating_mode": "individual",
                                   "hot_water_energy": "electricity", "construction_year": 1975})
    sandbox = stack.sandboxes["enedis"].url
    customer = create_customer(sandbox, DEMO_PRM)
    meter = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": DEMO_PRM}).json()
    answer = consent_at_dso(sandbox, meter["consent"]["authorize_url"], customer)
    user.http.get(answer.headers["location"].replace(gateway + "/api/v1", ""))
    admin_user(gateway).post("/admin/collections/enedis/run")


def main() -> None:
    stack = Stack(ensure_database(), ensure_vhost(), base_port=8000, log_dir=VAR / "logs")
    handles = sandboxes.start_all(VAR / "sandboxes", sandboxes.RUN_PORTS)
    stack.extra_env = {k: v for h in handles.values() for k, v in h.service_env.items()}
    stack.sandboxes = handles
    try:
        stack.start_all()
        seed_demo(stack)
        print(f"""
MétroEnergies is running.
  web app and API   {stack.url('gateway')}/
  API docs          {stack.url('gateway')}/api/v1/docs (as the administrator)
  demo resident     {DEMO_EMAIL} / {DEMO_PASSWORD}
  administrator     admin@metroenergies.example.org / local-admin-password-change-me
  DSO sandboxes     Enedis {handles['enedis'].url if 'enedis' in handles else '-'} · GRDF \
{handles['grdf'].url if 'grdf' in handles else '-'} · SGE SFTP 127.0.0.1:{sandboxes.RUN_PORTS['sge_sftp']}
  e-mails received  {VAR / 'sandboxes'} (SMTP sink on port {sandboxes.RUN_PORTS['smtp']}, page on \
http://127.0.0.1:{sandboxes.RUN_PORTS['smtp_web']}/)
  logs              {VAR / 'logs'}
Ctrl-C stops everything.""", flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop_all()
        for h in handles.values():
            h.stop()


if __name__ == "__main__":
    main()
