#!/usr/bin/env bash
# Installs what eqprop-analog needs and is missing: Debian packages (ngspice and libngspice0 of
# version >= 42, which have the KLU matrix solver: from bookworm-backports on Debian bookworm,
# else the release's own; dataset-fashion-mnist; python3-venv) with apt-get, and the Python
# environment .venv with pip. Where no ngspice >= 42 can be had it keeps (or installs) the older
# one and says so: the engine then uses ngspice's old sparse solver. With --for-tests it also
# installs chromium, which the report's browser test needs (best effort: without it that test
# skips).
# Safe to run again: it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bootstrap: $*" >&2; exit 1; }
say() { echo "bootstrap: $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# "46.0+ds-1~bpo12+1" -> 46 (an epoch "1:" is dropped); 0 when the package is not installed
major_version() {
    local version
    installed "$1" || { echo 0; return; }
    version=$(dpkg-query -W -f='${Version}' "$1")
    version=${version#*:}
    echo "${version%%[!0-9]*}"
}
KLU_SINCE=42  # the first ngspice with KLU

can_be_root() {
    [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif can_be_root; then
        sudo -n "$@"
    else
        fail "needs root to run '$*': run as root or with passwordless sudo"
    fi
}
apt_install() {
    command -v apt-get >/dev/null 2>&1 || \
        fail "needs apt-get (Debian/Ubuntu) to install $*; install them by other means"
    say "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "$@" >/dev/null
}
ngspice_major() {
    local a b
    a=$(major_version ngspice)
    b=$(major_version libngspice0)
    echo $((a < b ? a : b))
}

# ngspice >= 42 (KLU): bookworm's own is 39.3, its backports suite has 46
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=""
backports=/etc/apt/sources.list.d/bookworm-backports.sources
if [ "$(ngspice_major)" -lt "$KLU_SINCE" ] && command -v apt-get >/dev/null 2>&1 && \
        ! can_be_root; then
    say "ngspice >= $KLU_SINCE (with KLU) needs root or passwordless sudo to install; keeping" \
        "what is there"
elif [ "$(ngspice_major)" -lt "$KLU_SINCE" ] && command -v apt-get >/dev/null 2>&1; then
    if [ "$codename" = bookworm ]; then
        added=""
        # an enabled entry of the suite, not a commented-out one
        if ! grep -rqsE --include='*.list' --include='*.sources' '^[^#]*bookworm-backports' \
                /etc/apt/sources.list /etc/apt/sources.list.d; then
            say "adding the bookworm-backports suite (for ngspice >= $KLU_SINCE)"
            printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" \
                "Suites: bookworm-backports" "Components: main" \
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" | \
                as_root tee "$backports" >/dev/null
            added=yes
        fi
        if ! { as_root apt-get update -qq && \
               apt_install -t bookworm-backports ngspice libngspice0; }; then
            say "ngspice from bookworm-backports could not be installed"
            # a suite that cannot be reached must not break the user's later apt-get runs
            if [ -n "$added" ]; then as_root rm -f "$backports"; fi
        fi
    else
        as_root apt-get update -qq || true
        candidate=$(apt-cache policy ngspice 2>/dev/null | sed -n 's/^ *Candidate: *//p')
        candidate=${candidate#*:}
        candidate=${candidate%%[!0-9]*}
        if [ "${candidate:-0}" -gt "$(ngspice_major)" ]; then
            apt_install ngspice libngspice0 || say "ngspice $candidate could not be installed"
        fi
    fi
fi

missing=()
for package in ngspice libngspice0 dataset-fashion-mnist; do
    installed "$package" || missing+=("$package")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || \
        fail "needs apt-get (Debian/Ubuntu) to install ${missing[*]}; install them by other means"
    as_root apt-get update -qq
    apt_install "${missing[@]}"
fi
# the test suite opens the HTML report in a headless browser; without one that test skips
if [ "${1:-}" = "--for-tests" ] && ! command -v chromium >/dev/null 2>&1 && \
        ! command -v chromium-browser >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && can_be_root; then
        { as_root apt-get update -qq && apt_install chromium; } || \
            say "chromium could not be installed: the report's browser test will skip"
    else
        say "no chromium, and no apt-get as root to install it: the report's browser test" \
            "will skip"
    fi
fi
if [ "$(ngspice_major)" -lt "$KLU_SINCE" ]; then
    say "ngspice $(ngspice_major) is what could be installed here: it has no KLU, so the engine" \
        "falls back to ngspice's older sparse matrix solver (slower at large sizes)"
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
