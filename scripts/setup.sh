#!/usr/bin/env bash
# One-shot set-up of a fresh machine: system packages (headless Chromium for the map tests),
# a Python 3.12 virtual environment in .venv and corridor with its dev extras.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for cand in "${PYTHON:-}" python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 \
              /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [ -n "$cand" ] || continue
    if "$cand" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then
      command -v "$cand" || echo "$cand"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    v=$(pyenv versions --bare | grep -E '^3\.1[2-9]' | sort -V | tail -1)
    [ -n "$v" ] && { echo "$(pyenv root)/versions/$v/bin/python3"; return 0; }
  fi
  echo "corridor needs Python >= 3.12 (set PYTHON=/path/to/python3.12)" >&2; return 1
}

# System packages: Debian's chromium + driver for the browser tests of the maps.
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing chromium (Debian packages) …"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: chromium not found; browser tests of the maps will be skipped" >&2
  fi
fi

if [ ! -f .venv/.corridor-installed ] || [ pyproject.toml -nt .venv/.corridor-installed ]; then
  PY=$(find_python)
  echo "creating .venv with $PY"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch .venv/.corridor-installed
fi
