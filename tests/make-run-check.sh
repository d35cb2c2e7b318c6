#!/usr/bin/env bash
#
# make-run-check.sh - `make run` as a newcomer uses it, checked from outside:
# start it as at a terminal, wait for its banner, sign in as the demo user,
# call the API, press Ctrl-C, and check that every process it started is
# gone and nothing it opened still listens.
#
# tests/integration/ops/run_smoke.test.mjs checks deploy/local/run.sh in depth on
# free ports; this script checks the real command on its real ports, the
# way ../shared/tools/fresh-machine.sh runs it on a clean Debian 12:
#
#   tests/make-run-check.sh        (from the repository root)
#
# ECHOSTREAM_PORT, ECHOSTREAM_REDIS_PORT, ECHOSTREAM_COGNITO_PORT,
# ECHOSTREAM_MAIL_PORT, ECHOSTREAM_MAIL_UI_PORT and ECHOSTREAM_VAR are
# passed on to make run unchanged. Exits 0 when every
# check passed, 1 otherwise, saying which one failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
readonly HTTP_PORT=${ECHOSTREAM_PORT:-8080}
readonly REDIS_PORT=${ECHOSTREAM_REDIS_PORT:-6380}
readonly COGNITO_PORT=${ECHOSTREAM_COGNITO_PORT:-9229}
readonly MAIL_PORT=${ECHOSTREAM_MAIL_PORT:-1025}
readonly MAIL_UI_PORT=${ECHOSTREAM_MAIL_UI_PORT:-1080}
readonly VAR_DIR=${ECHOSTREAM_VAR:-$PWD/var}
OUT=$(mktemp /tmp/make-run-check.XXXXXX) || exit 1
readonly OUT
readonly START_LIMIT=${ES_RUN_START_LIMIT:-900} # first run installs, builds
readonly STOP_LIMIT=60
MAKE_PID=''

say() { printf 'make-run-check: %s\n' "$*"; }

fail() {
    say "FAILED: $*"
    say "last lines of make run's output:"
    tail -n 30 "$OUT" | sed 's/^/    /'
    [ -n "$MAKE_PID" ] && kill -INT -- "-$MAKE_PID" 2>/dev/null
    exit 1
}

listening() { # port
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# the body of GET $1, failing unless the status is 200
get200() {
    local body code
    body=$(curl -sS -m 10 -w '\n%{http_code}' "$@") || return 1
    code=${body##*$'\n'}
    [ "$code" = 200 ] || {
        printf '%s\n' "${body%$'\n'*}" >&2
        return 1
    }
    printf '%s\n' "${body%$'\n'*}"
}

for port in "$HTTP_PORT" "$REDIS_PORT" "$COGNITO_PORT" "$MAIL_PORT" "$MAIL_UI_PORT"; do
    listening "$port" && fail "port $port is in use before make run"
done

# its own process group, as a terminal's job, so "Ctrl-C" (SIGINT to the
# group) reaches make and run.sh exactly as a key press would. Job control
# (set -m) matters: without it a background job starts with SIGINT
# ignored, and a signal ignored at start cannot be trapped.
set -m
make run </dev/null >"$OUT" 2>&1 &
MAKE_PID=$!
set +m
say "make run started (pid $MAKE_PID); waiting for its banner"

deadline=$((SECONDS + START_LIMIT))
until grep -q 'EchoStream is running' "$OUT"; do
    kill -0 "$MAKE_PID" 2>/dev/null || fail "make run exited before its banner"
    [ "$SECONDS" -lt "$deadline" ] || fail "no banner after ${START_LIMIT}s"
    sleep 2
done
say "banner printed after ${SECONDS}s"
grep -E 'Dashboard|Sign in|Mail ' "$OUT" | sed 's/  \/  .*/  \/  (password hidden)/'

base=http://127.0.0.1:$HTTP_PORT
health=''
for _ in $(seq 30); do
    health=$(get200 "$base/healthz" 2>/dev/null) && break
    health=''
    sleep 1
done
[ -n "$health" ] || fail "/healthz did not answer 200"
say "/healthz: $health"
get200 "$base/config.json" >/dev/null || fail "/config.json did not answer 200"
page=$(get200 "$base/") || fail "the dashboard page did not answer 200"
asset=$(printf '%s' "$page" | grep -o '/assets/app-[A-Za-z0-9_-]*\.js' | head -n 1)
[ -n "$asset" ] || fail "the dashboard page names no script bundle"
get200 "$base$asset" >/dev/null || fail "the dashboard's $asset did not answer 200"
curl -sS -m 10 -o /dev/null -D - "$base/" | grep -qi "^content-security-policy: default-src 'self'" ||
    fail "the dashboard page has no Content-Security-Policy"
say "the dashboard: / and $asset served, under a Content-Security-Policy"

token=$(node deploy/local/token.mjs) || fail "the demo user could not sign in"
me=$(get200 -H "Authorization: Bearer $token" "$base/api/v1/me") ||
    fail "GET /api/v1/me with the demo user's token did not answer 200"
say "the demo user signed in; /api/v1/me: $me"

# the demo: the demo topic exists and the synthetic source's comments
# reach it within a minute
auth=(-H "Authorization: Bearer $token")
demo=$(get200 "${auth[@]}" "$base/api/v1/topics" | node -e 'let s="";
    process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s)
    .topics.find(x=>x.name.startsWith("Demo"));process.stdout.write(t?t.id:"")})')
[ -n "$demo" ] || fail "the demo user has no demo topic"
count=0
for _ in $(seq 60); do
    count=$(get200 "${auth[@]}" "$base/api/v1/topics/$demo/comments?limit=5" 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
            process.stdout.write(String(JSON.parse(s).comments.length)))') || count=0
    [ "$count" -gt 0 ] && break
    sleep 1
done
[ "$count" -gt 0 ] || fail "no synthetic comments reached the demo topic in 60s"
say "the demo topic $demo receives synthetic comments"

# the local mail inbox answers, and a summary asked for is written
get200 "http://127.0.0.1:$MAIL_UI_PORT/email" >/dev/null ||
    fail "the local mail inbox did not answer"
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
curl -sS -m 10 -o /dev/null -X POST "${auth[@]}" \
    -d '{"id":"makeruncheck","name":"Check","subreddits":["rust"]}' \
    "$base/api/v1/topics" || fail "creating a topic failed"
queued=$(curl -sS -m 10 -X POST "${auth[@]}" -d '{"topic":"makeruncheck"}' \
    "$base/api/v1/summaries") || fail "POST /api/v1/summaries failed"
request=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).request.id)' \
    "$queued") || fail "POST /api/v1/summaries answered $queued"
status=''
for _ in $(seq 60); do
    status=$(get200 -H "Authorization: Bearer $token" \
        "$base/api/v1/summaries/requests/$request" 2>/dev/null |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
            process.stdout.write(JSON.parse(s).request.status))') || status=''
    [ "$status" = "done" ] && break
    sleep 1
done
[ "$status" = "done" ] || fail "summary request $request is '$status', not done"
say "POST /api/v1/summaries: request $request done; the summary:"
# shellcheck disable=SC2016 # the $ signs are JavaScript's, not the shell's
get200 -H "Authorization: Bearer $token" "$base/api/v1/summaries/$request" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
        const j=JSON.parse(s);console.log(`    (${j.source}) ` +
            j.text.split("\n").join("\n    "))})' ||
    fail "GET /api/v1/summaries/$request did not answer 200"

# the processes run.sh started, before it removes its pid file
pids=$(awk '{print $2}' "$VAR_DIR/run/pids" 2>/dev/null | tr '\n' ' ')
[ -n "$pids" ] || fail "no pids recorded in $VAR_DIR/run/pids"

say "Ctrl-C"
kill -INT -- "-$MAKE_PID"
deadline=$((SECONDS + STOP_LIMIT))
while kill -0 "$MAKE_PID" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "make run still running ${STOP_LIMIT}s after Ctrl-C"
    sleep 1
done
MAKE_PID=''

left=''
for pid in $pids; do
    kill -0 "$pid" 2>/dev/null && left+=" $pid($(cat "/proc/$pid/comm" 2>/dev/null))"
done
[ -z "$left" ] || fail "processes still alive after Ctrl-C:$left"
for port in "$HTTP_PORT" "$REDIS_PORT" "$COGNITO_PORT" "$MAIL_PORT" "$MAIL_UI_PORT"; do
    listening "$port" && fail "port $port still listens after Ctrl-C"
done
[ -S "$VAR_DIR/run/redis.sock" ] && fail "Redis's socket is still there"
say "stopped: none of the $(wc -w <<<"$pids") processes is left, nothing listens"
rm -f "$OUT"
say "ok"
