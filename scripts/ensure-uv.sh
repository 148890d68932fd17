#!/usr/bin/env bash
# Installs uv with pip when it is missing, then the locked Python environment.
set -eu
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv || { echo "cannot install uv with pip"; exit 1; }
fi
uv sync --frozen --quiet || { echo "uv sync failed (see above)"; exit 1; }
