#!/usr/bin/env bash
# Sets up and runs a Pipsqueak worker on its built-in defaults (port 5000, state in ./.pipsqueak).
# Extra arguments go to `pipsqueak worker`, e.g. scripts/worker.sh --port 6000.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "error: run as root (sudo $0): the worker creates namespaces, mounts and cgroups" >&2; exit 1; }
scripts/install-deps.sh
echo "building (release)…" >&2
swift build -c release --product pipsqueak-sandbox
swift build -c release --product pipsqueak
exec .build/release/pipsqueak worker "$@"
