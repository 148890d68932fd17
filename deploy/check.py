"""make deploy-check: renders every overlay, validates each object strictly (Kubernetes' own schemas for the
built-in kinds, the operators' CRD schemas in crd-schemas/ for theirs), runs checkov over the rendered
manifests and the Dockerfile (skips in .checkov.yaml, each with its reason) and hadolint over the Dockerfile.

Runs in deploy/tools' environment: ``uv run --project deploy/tools python deploy/check.py``."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
KUBERNETES_VERSION = "1.37.0"
OUT = ROOT / "var" / "deploy"


def render(overlay: Path) -> list[dict]:
    text = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True, capture_output=True,
                          text=True).stdout
    (OUT / f"{overlay.name}.yaml").write_text(text)
    return [d for d in yaml.safe_load_all(text) if d]


def crd_schema(doc: dict) -> Path | None:
    group, _, version = doc["apiVersion"].rpartition("/")
    if not group or "." not in group or group.endswith(".k8s.io"):
        return None
    return DEPLOY / "crd-schemas" / group / f"{doc['kind'].lower()}_{version}.json"


def validate(doc: dict) -> list[str]:
    schema_file = crd_schema(doc)
    if schema_file is None:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            return [f"{exc.path}: {exc.message}" if hasattr(exc, "path") else str(exc)]
        except kubernetes_validate.SchemaNotFoundError as exc:
            return [f"no schema: {exc}"]
        return []
    if not schema_file.exists():
        return [f"no CRD schema {schema_file.relative_to(DEPLOY)}"]
    validator = jsonschema.Draft7Validator(json.loads(schema_file.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def checkov(files: list[Path]) -> int:
    args = ["checkov", "--config-file", str(ROOT / ".checkov.yaml"), "-f", *map(str, files)]
    result = subprocess.run(args, capture_output=True, text=True)
    print(result.stdout.strip())
    if result.returncode:
        print(result.stderr.strip()[-3000:], file=sys.stderr)
    return result.returncode


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    overlays = sorted(p for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").exists())
    # The monitoring objects (ServiceMonitor, PrometheusRule, dashboard) are applied beside an overlay.
    for overlay in overlays + [DEPLOY / "monitoring"]:
        docs = render(overlay)
        errors = [(d, e) for d in docs for e in validate(d)]
        kinds = Counter(d["kind"] for d in docs)
        counted = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(f"{overlay.name}: {len(docs)} objects ({counted}), "
              f"{len(errors)} schema errors")
        for d, e in errors:
            print(f"  {d['kind']}/{d['metadata']['name']}: {e}")
        failed += bool(errors)
    hadolint = subprocess.run(["hadolint", "--config", str(ROOT / ".hadolint.yaml"),
                               str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    print(f"hadolint deploy/Dockerfile: {'ok' if hadolint.returncode == 0 else 'failed'}")
    print(hadolint.stdout.strip()) if hadolint.stdout.strip() else None
    failed += hadolint.returncode != 0
    print("checkov:")
    failed += checkov([OUT / f"{o.name}.yaml" for o in overlays] + [DEPLOY / "Dockerfile"]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
