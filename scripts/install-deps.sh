#!/usr/bin/env bash
# Installs the system packages Pipsqueak needs (Debian/Ubuntu). Safe to run repeatedly.
set -euo pipefail

packages=(zlib1g-dev python3 python3-pip python3-venv iproute2 procps slirp4netns nftables)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v swift >/dev/null || { echo "error: Swift 6.x is not on PATH (see README)" >&2; exit 1; }
[ -x /usr/bin/python3 ] || { echo "error: /usr/bin/python3 is missing" >&2; exit 1; }
