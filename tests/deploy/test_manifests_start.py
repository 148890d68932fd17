"""Every service starts with what the manifests give it: each overlay rendered, each container's environment
built as the kubelet would (ConfigMaps, the named Secrets with placeholder values, $(VAR) references), and the
service's Settings built from it outside local mode. A refusal here is a crash loop in the cluster.

Run by `make deploy-check` (kubectl comes from deploy/tools' environment)."""
from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from metro.services import NAMES, PORTS

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "deploy" / "overlays").iterdir()
                  if (p / "kustomization.yaml").exists())
# Written by the operators from their own resources (deploy/secrets.example.yaml says so).
OPERATOR_SECRETS = {"metroenergies-db-app": {"username", "password"},
                    "metroenergies-mq-default-user": {"username", "password"}}
METRICS_OFFSET = 1100
LOOPBACK = re.compile(r"127\.0\.0\.1|//localhost\b|^localhost$")


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    kubectl = ["uv", "run", "--frozen", "--quiet", "--project", "deploy/tools", "kubectl"]
    out = subprocess.run([*kubectl, "kustomize", f"deploy/overlays/{overlay}"], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(overlay: str, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


@cache
def template_secrets() -> dict[str, set[str]]:
    docs = yaml.safe_load_all((ROOT / "deploy" / "secrets.example.yaml").read_text())
    return {d["metadata"]["name"]: set(d["stringData"]) for d in docs if d}


@cache
def signing_keys() -> dict[str, tuple[str, str]]:
    """A placeholder Ed25519 key pair per service: (private PEM, public PEM)."""
    keys = {}
    for name in NAMES:
        key = Ed25519PrivateKey.generate()
        keys[name] = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode(),
                      key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    return keys


def placeholder(secret: str, key: str) -> str:
    declared = OPERATOR_SECRETS.get(secret) or template_secrets().get(secret)
    assert declared is not None, f"Secret {secret} is not in deploy/secrets.example.yaml nor an operator's"
    assert key in declared, f"Secret {secret} has no key {key} in deploy/secrets.example.yaml"
    if key.endswith("_SIGNING_KEY"):
        service = key.removeprefix("METRO_").removesuffix("_SIGNING_KEY").lower()
        return signing_keys()[service][0]
    if key.endswith("_SERVICE_KEYS"):
        return json.dumps({name: public for name, (_, public) in signing_keys().items()})
    if key.endswith("_VAPID_PRIVATE_KEY"):
        return ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return f"placeholder-{secrets.token_hex(16)}"


def environment(overlay: str, container: dict) -> dict[str, str]:
    maps = of_kind(overlay, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]]["data"])
        else:
            name = source["secretRef"]["name"]
            assert name in template_secrets(), f"Secret {name} is not in deploy/secrets.example.yaml"
            env.update({k: placeholder(name, k) for k in template_secrets()[name]})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], entry["value"])
        elif "secretKeyRef" in entry["valueFrom"]:
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = placeholder(ref["name"], ref["key"])
        else:
            ref = entry["valueFrom"]["configMapKeyRef"]
            env[entry["name"]] = maps[ref["name"]]["data"][ref["key"]]
    return env


def settings_class(deployment: str):
    return importlib.import_module(f"{deployment.replace('-', '_')}.app").Settings


CASES = [(o, d, c) for o in OVERLAYS for d in ("gateway", "consent", "consumption", "notify", "ingest-enedis",
                                                   "ingest-grdf", "ingest-sge") for c in ("serve", "migrate")]


@pytest.mark.parametrize("overlay,deployment,container", CASES)
def test_each_container_builds_its_settings_outside_local_mode(overlay, deployment, container, monkeypatch):
    spec = of_kind(overlay, "Deployment")[deployment]["spec"]["template"]["spec"]
    chosen = spec["containers"][0] if container == "serve" else spec["initContainers"][0]
    assert chosen["args"][0] == container
    for name in [k for k in os.environ if k.startswith("METRO_")]:
        monkeypatch.delenv(name)
    for name, value in environment(overlay, chosen).items():
        monkeypatch.setenv(name, value)
    settings = settings_class(deployment)()
    assert settings.local_mode is False
    if container == "serve":
        # `host` is where it listens (the container's --host); every other address is somewhere it goes.
        loopback = {k: v for k, v in settings.model_dump().items()
                    if k != "host" and isinstance(v, str) and LOOPBACK.search(v)}
        assert not loopback, f"{deployment} would reach these on its own pod: {loopback}"
        assert settings.migrate_on_start is False, "the init container migrates: the service must not"
        assert "pooler" in settings.database_url
    else:
        assert "metroenergies-db-rw" in settings.database_url
    mounts = {m["mountPath"]: m["name"] for m in chosen.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec["volumes"]}
    for field, value in settings.model_dump().items():
        if container == "serve" and isinstance(value, str) and value.startswith("/etc/"):
            assert_file_is_mounted(overlay, field, Path(value), mounts, volumes)


def assert_file_is_mounted(overlay: str, field: str, path: Path, mounts: dict, volumes: dict) -> None:
    assert str(path.parent) in mounts, f"{field}={path}: no volume is mounted at {path.parent}"
    volume = volumes[mounts[str(path.parent)]]
    if "configMap" in volume:
        assert path.name in of_kind(overlay, "ConfigMap")[volume["configMap"]["name"]]["data"], field
    else:
        assert path.name in template_secrets()[volume["secret"]["secretName"]], field


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_s_connections_fit_the_pooler(overlay):
    maps, hpas = of_kind(overlay, "ConfigMap"), of_kind(overlay, "HorizontalPodAutoscaler")
    clients = 0
    for name, deployment in of_kind(overlay, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = {}
        for source in container["envFrom"]:
            env.update(maps[source["configMapRef"]["name"]]["data"] if "configMapRef" in source else {})
        prefix = f"METRO_{name.replace('-', '_').upper()}_"
        pool, overflow = int(env[prefix + "DB_POOL_SIZE"]), int(env[prefix + "DB_POOL_OVERFLOW"])
        assert int(env.get(prefix + "DB_POOL_WARM", 0)) <= pool
        pods = hpas[name]["spec"]["maxReplicas"] if name in hpas else deployment["spec"]["replicas"]
        clients += pods * (pool + overflow)
    pooler = next(iter(of_kind(overlay, "Pooler").values()))["spec"]
    cluster = next(iter(of_kind(overlay, "Cluster").values()))["spec"]
    assert pooler["pgbouncer"]["poolMode"] == "transaction"
    assert clients <= int(pooler["pgbouncer"]["parameters"]["max_client_conn"]), clients
    servers = pooler["instances"] * int(pooler["pgbouncer"]["parameters"]["default_pool_size"])
    migrating = len(of_kind(overlay, "Deployment"))
    assert servers + migrating <= int(cluster["postgresql"]["parameters"]["max_connections"]) - 10


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_have_their_own_port_and_the_ingress_routes_only_the_gateway_s_application(overlay):
    for name, deployment in of_kind(overlay, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == PORTS[name.replace("-", "_")] + METRICS_OFFSET
    ingress = next(iter(of_kind(overlay, "Ingress").values()))
    backends = [p["backend"]["service"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends == [{"name": "gateway", "port": {"name": "http"}}]
    admitted = of_kind(overlay, "NetworkPolicy")["metrics-from-prometheus"]["spec"]["ingress"][0]
    monitoring = {"kubernetes.io/metadata.name": "monitoring"}
    assert admitted["from"] == [{"namespaceSelector": {"matchLabels": monitoring}}]
    assert {"port": "metrics"} in admitted["ports"]


def test_the_external_secrets_give_the_template_s_secrets_with_the_same_keys():
    made = {d["spec"]["target"]["name"]: {x["secretKey"] for x in d["spec"]["data"]}
            for d in rendered("production") if d["kind"] == "ExternalSecret"}
    assert made == template_secrets()
