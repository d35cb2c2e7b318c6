# shellcheck shell=bash
# node-compat.sh - sourced by tests/run.sh and deploy/local/run.sh: run
# every Node program under the module rules of the oldest Node.js the
# project supports (package.json engines, 18.19).
#
# Node 20.19 and 22.12 let CommonJS code require() an ES module; Node 18,
# which Debian 12 ships, throws ERR_REQUIRE_ESM instead. A dependency that
# relies on the newer rule works on a newer Node and dies at start on
# Debian 12. --no-experimental-require-module restores the old rule, so the
# fault shows on every machine. A Node without the flag (18, or a future
# one that dropped it) is left as it is: NODE_OPTIONS with an unknown flag
# would stop every node from starting.
#
# Likewise, Node 20.19 and 22.7 guess that a .js file outside any "type":
# "module" package is an ES module when its syntax says so; Node 18 reads it
# as CommonJS and fails on its first `export`. --no-experimental-detect-module
# turns the guess off, so a missing "type" shows here too.

es_node_oldest_rules() {
    local flag
    command -v node >/dev/null 2>&1 || return 0
    for flag in --no-experimental-require-module \
        --no-experimental-detect-module; do
        case " ${NODE_OPTIONS:-} " in *" $flag "*) continue ;; esac
        if node "$flag" -e 0 >/dev/null 2>&1; then
            export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }$flag"
        fi
    done
}
