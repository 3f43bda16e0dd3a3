#!/usr/bin/env bash
# Runs every test: unit tests, PipBench tests and, as root, the end-to-end sandbox tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "$(id -u)" != 0 ]; then
    echo "warning: not root; end-to-end sandbox tests will be skipped" >&2
fi
swift build --build-tests
swift test --skip-build
