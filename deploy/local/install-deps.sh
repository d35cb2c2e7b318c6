#!/usr/bin/env bash
#
# install-deps.sh - install the Debian and npm packages EchoStream needs to
# build, run and test on one box (Debian 12).
#
# It is run before every `make run` and `make test`, so the common case -
# everything already present - must cost well under a second and touch no
# network: it asks dpkg and the npm stamp first and only calls apt-get or npm
# for what is missing. Only two sources are ever contacted: the Debian
# mirrors (apt-get) and the npm registry (npm ci, pinned by the committed
# package-lock.json). It works as root, or through sudo otherwise.
#
#   deploy/local/install-deps.sh           install what is missing
#   ECHOSTREAM_DEPS_CHECK=1 install-deps.sh  only report what is missing
#                                           (exit 1 if anything is)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly ROOT
readonly NPM_STAMP="$ROOT/node_modules/.echostream-lock.sha256"

# Everything the build, `make run` and the test suites use.
readonly DEB_PACKAGES=(
    build-essential pkg-config
    nginx nginx-dev
    libhiredis-dev libjwt-dev libjansson-dev libcurl4-openssl-dev libssl-dev
    libzstd-dev zstd libcmocka-dev
    redis-server redis-tools
    # the failover suite runs a sentinel that promotes a replica
    redis-sentinel
    python3-nltk
    wrk hyperfine valgrind clang-format
    clang libclang-rt-14-dev lua-check
    curl ca-certificates procps
    # systemd-analyze and systemd-sysusers check the units offline (a
    # minimal Debian root, debootstrap or a container, may lack systemd)
    systemd
    # nginx's stream module: the TLS tunnel to a Redis that needs TLS
    # (deploy/nginx/redis-tls-tunnel.conf; hiredis 0.14 has no TLS)
    libnginx-mod-stream
    # its alternative, tested as well (deploy/stunnel/redis-tls-stunnel.conf)
    stunnel4
    # make deb: debhelper with the nginx sequence (nginx-dev, above) builds
    # the packages; dpkg-dev has dpkg-buildpackage (no fakeroot: the
    # packages declare Rules-Requires-Root: no); help2man writes the manual
    # pages from --help; lintian checks the packages in make test
    debhelper dpkg-dev help2man lintian
    chromium fonts-dejavu-core
    # every shell script passes shellcheck in make test (ops/shellcheck
    # suite); actionlint also runs it over the workflows' run: steps
    shellcheck
)

# Prints a progress line on stderr, prefixed so it stands out in make output.
say() {
    printf 'install-deps: %s\n' "$*" >&2
}

# Prints an error and exits 1.
die() {
    say "error: $*"
    exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -- "$@"
    else
        die "need root to run '$*' and sudo is not installed;" \
            "run this script as root"
    fi
}

# Prints, one per line, the Debian packages of "$@" that are not installed.
missing_debs() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null ||
            true)
        if [ "$status" != "installed" ]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Installs the Debian packages given, refreshing the package lists once first
# (a fresh machine may have empty lists).
apt_install() {
    say "installing Debian packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@"
}

# The hash that says which lockfile node_modules was installed from.
lock_hash() {
    sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1
}

# True when every package the lockfile pins is in node_modules at the pinned
# version (optional packages may be absent). Reads files only, no network.
npm_tree_matches_lock() {
    (cd "$ROOT" && node -e '
        const fs = require("fs");
        const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
        for (const [path, want] of Object.entries(lock.packages || {})) {
            if (path === "" || want.link) continue;
            let got;
            try {
                got = JSON.parse(fs.readFileSync(path + "/package.json"));
            } catch (e) {
                if (want.optional) continue;
                process.exit(1);
            }
            if (want.version && got.version !== want.version) process.exit(1);
        }' 2>/dev/null)
}

# True when node_modules holds what the current lockfile pins. The stamp
# makes the usual case a single hash; without one (a tree installed by hand)
# the tree is compared with the lockfile and, if it matches, stamped.
npm_up_to_date() {
    [ -d "$ROOT/node_modules" ] || return 1
    if [ -f "$NPM_STAMP" ] && [ "$(cat "$NPM_STAMP")" = "$(lock_hash)" ]; then
        return 0
    fi
    command -v node >/dev/null 2>&1 || return 1
    npm_tree_matches_lock || return 1
    lock_hash >"$NPM_STAMP"
}

# The oldest Node.js the npm packages run on, from package.json's engines
# (">=18.19" -> "18.19"), read without node: it may not be installed yet.
min_node() {
    sed -n 's/^ *"node": *">= *\([0-9][0-9.]*\)".*/\1/p' \
        "$ROOT/package.json" | head -n 1
}

# Dies, saying what to do, when the node on PATH is older than min_node.
# Without this an old Node fails much later, deep inside a test or at the
# identity provider's start, with an error that names neither Node nor its
# version. npm's engine-strict (.npmrc) then refuses any locked package
# whose own engines exclude the running Node, at install time.
check_node_version() {
    local want have
    want=$(min_node)
    [ -n "$want" ] || return 0
    have=$(node -p 'process.versions.node' 2>/dev/null) ||
        die "node is installed but does not run"
    if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" \
        != "$want" ]; then
        die "Node.js $have is older than $want, the oldest the project's" \
            "npm packages support (package.json engines). Install Node.js" \
            "$want or newer: Debian 12's nodejs package (18.19 or later)" \
            "is enough."
    fi
}

# Installs the npm packages exactly as the lockfile pins them, then records
# the lockfile hash so the next run can skip npm entirely.
npm_install() {
    say "installing npm packages from package-lock.json (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund)
    lock_hash >"$NPM_STAMP"
}

main() {
    local debs=() node_debs=()

    mapfile -t debs < <(missing_debs "${DEB_PACKAGES[@]}")
    # A node from elsewhere (nvm, nodesource) is fine; only a missing one
    # brings in Debian's.
    if ! command -v node >/dev/null 2>&1; then
        node_debs=(nodejs npm)
    elif ! command -v npm >/dev/null 2>&1; then
        node_debs=(npm)
    fi
    debs+=("${node_debs[@]}")

    if [ "${ECHOSTREAM_DEPS_CHECK:-0}" = 1 ]; then
        local ok=0
        if [ "${#debs[@]}" -gt 0 ]; then
            say "missing Debian packages: ${debs[*]}"
            ok=1
        fi
        if ! npm_up_to_date; then
            say "node_modules is missing or older than package-lock.json"
            ok=1
        fi
        [ "$ok" -eq 0 ] && say "everything is installed"
        return "$ok"
    fi

    if [ "${#debs[@]}" -gt 0 ]; then
        apt_install "${debs[@]}"
    fi
    check_node_version
    if ! npm_up_to_date; then
        npm_install
    fi
    say "all dependencies present"
}

main "$@"
