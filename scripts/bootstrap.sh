#!/usr/bin/env bash
# Installs what eqprop-analog needs and is missing: Debian packages (ngspice, libngspice0,
# dataset-fashion-mnist, python3-venv) with apt-get, and the Python environment .venv with pip.
# Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bootstrap: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

missing=()
for package in ngspice libngspice0 dataset-fashion-mnist; do
    installed "$package" || missing+=("$package")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || \
        fail "needs apt-get (Debian/Ubuntu) to install ${missing[*]}; install them by other means"
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        fail "needs root to install ${missing[*]}: run as root or with passwordless sudo"
    fi
    echo "bootstrap: installing ${missing[*]}" >&2
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
    fail "needs Python >= 3.11 as python3, found $(python3 --version 2>&1)"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# reinstall only when the project's requirements changed
stamp=.venv/.eqprop-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing the Python environment in .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
    echo "$want" > "$stamp"
fi
