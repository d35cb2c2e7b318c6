#!/usr/bin/env bash
# tests/bench/jwt.sh - the cost of one token signature check.
#
# Runs build/bench/jwt (tests/bench/jwt.c): the module's whole token check
# (es_jwt_verify: header, one OpenSSL signature check with the key parsed
# at JWKS fetch, claims) against libjwt's jwt_decode on the same token,
# which parses the key's PEM on every call, with OpenSSL's bare signature
# check beside them. Pinned to CPU 0 when taskset works.
#
# Prints:
#   jwt verify: es_jwt_verify N tokens/s (OpenSSL alone: M/s; libjwt
#   jwt_decode: K/s): X x libjwt
#   jwt verify cost: es_jwt_verify A us, libjwt B us per token
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=build/bench/jwt
[ -x "$BIN" ] || { echo "jwt: $BIN missing (run make bench)" >&2; exit 1; }
PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi
"${PIN[@]}" "$BIN" "${BENCH_TOKENS:-3000}"
