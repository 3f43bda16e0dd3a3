#!/usr/bin/env bash
# Cold starts through the import cache, without it, and through runc, in one run (see docs/benchmarks.md).
# Installs runc from Debian for the baseline, builds release binaries, then runs `pipsqueak bench cold`.
# Extra arguments go to `pipsqueak bench cold`, e.g. scripts/bench-cold.sh --handlers 20 --packages numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "error: run as root: the benchmark starts its own workers" >&2; exit 1; }
scripts/install-deps.sh
if ! command -v runc >/dev/null; then
    echo "installing runc for the baseline…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc
fi
swift build -c release --product pipsqueak-sandbox
swift build -c release --product pipsqueak
exec .build/release/pipsqueak bench cold "$@"
