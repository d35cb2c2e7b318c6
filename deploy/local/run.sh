#!/usr/bin/env bash
#
# run.sh - EchoStream on one box: Redis, the local identity provider
# (cognito-local), the workers and nginx with the EchoStream module, all on
# loopback, supervised until Ctrl-C. `make run` builds, then runs this.
#
# State lives under var/ of the repository (ECHOSTREAM_VAR overrides), so a
# second run finds the same Redis data, user pool and demo user:
#   var/run/     rendered configs, redis.sock, config.json, pids, and
#                redis.password (mode 600): Redis requires it of every
#                client, so no other local user can read the tenants' data
#   var/redis/   Redis append-only file
#   var/cognito/ cognito-local data (.cognito/), ids.json, demo-user.txt
#   var/nginx/   nginx prefix (pid, temp dirs, rendered nginx.conf)
#   var/log/     one log per process (stdout and stderr)
#   var/mail/    the e-mails the local mail catcher (maildev) received
#
# Alert and digest e-mails go to the local mail catcher (maildev, SMTP on
# ECHOSTREAM_MAIL_PORT, inbox on ECHOSTREAM_MAIL_UI_PORT) unless
# ECHOSTREAM_SMTP_URL or ECHOSTREAM_SES_ENDPOINT names a real transport;
# webhooks may go to http and loopback addresses (development only); links
# in e-mails point at this dashboard, and unsubscribe links are signed with
# var/run/mail.secret (mode 600), which nginx and the workers both read.
#
# Every child runs in its own session, so a Ctrl-C at the terminal reaches
# only this script, which then stops them in dependency order: workers
# (they finish their batch), nginx (gracefully), cognito-local, and Redis
# last so its append-only file is flushed after every writer is gone.
#
# Environment:
#   ECHOSTREAM_PORT          nginx port (8080)
#   ECHOSTREAM_REDIS_PORT    Redis TCP port (6380; the workers use the socket)
#   ECHOSTREAM_COGNITO_PORT  cognito-local port (9229)
#   ECHOSTREAM_MAIL_PORT     the local mail catcher's SMTP port (1025)
#   ECHOSTREAM_MAIL_UI_PORT  its web inbox (1080)
#   ECHOSTREAM_VAR           state directory (var/ of the repository)
#   ECHOSTREAM_WEB_ROOT      the dashboard build nginx serves (web/dist)
#   ECHOSTREAM_DEMO=0        no demo: by default the demo user's team gets
#                            a demo topic and a synthetic comment source
#                            (ingest --synthetic) feeds every watched
#                            subreddit, so the dashboard shows live data
#                            without Reddit credentials
#   ECHOSTREAM_DEMO_RATE     synthetic comments per second (2)
#   ECHOSTREAM_HOSTED_UI=1   the dashboard also offers the Hosted UI
#                            sign-in (authorization code with PKCE), here
#                            served by cognito-local itself
#   ECHOSTREAM_CONFIG        worker config file passed as --config (unset:
#                            none; /etc/echostream/echostream.conf, the
#                            workers' own default, is never read here)
#   ECHOSTREAM_SKIP_DEPS=1   do not run install-deps.sh first
#   ECHOSTREAM_*             every other one reaches the workers unchanged
#                            (see conf/echostream.conf.example), except
#                            ECHOSTREAM_REDIS: they use this run's Redis
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly ROOT
readonly HTTP_PORT=${ECHOSTREAM_PORT:-8080}
readonly REDIS_PORT=${ECHOSTREAM_REDIS_PORT:-6380}
readonly COGNITO_PORT=${ECHOSTREAM_COGNITO_PORT:-9229}
readonly MAIL_PORT=${ECHOSTREAM_MAIL_PORT:-1025}
readonly MAIL_UI_PORT=${ECHOSTREAM_MAIL_UI_PORT:-1080}
readonly WEB_ROOT=${ECHOSTREAM_WEB_ROOT:-$ROOT/web/dist}
readonly DEMO=${ECHOSTREAM_DEMO:-1}
readonly DEMO_RATE=${ECHOSTREAM_DEMO_RATE:-2}
# an empty value keeps every worker (the demo's ingest too) off the
# system-wide default file: a local run is configured here alone
export ECHOSTREAM_CONFIG=${ECHOSTREAM_CONFIG:-}
readonly DEMO_TOPIC='{"name":"Demo: technology talk","subreddits":["technology","gaming","programming"],"query":""}'
readonly WORKERS=(ingest enrich mirror summarize alert)
readonly MODULE_SO="$ROOT/build/ngx_http_echostream_module.so"
readonly NGINX=/usr/sbin/nginx
# start order, and the order of shutdown (writers before what they write to)
# (demo: the synthetic comment source, when ECHOSTREAM_DEMO is on)
readonly START_ORDER=(redis mail cognito "${WORKERS[@]}" nginx demo)
readonly STOP_ORDER=(demo "${WORKERS[@]}" nginx cognito mail redis)
readonly STOP_TIMEOUT=15 # seconds a process gets to exit before SIGKILL
readonly MAX_BACKOFF=30  # longest wait before restarting a dead process

VAR='' RUN_DIR='' LOG_DIR='' SOCK='' # set by init_paths
REDIS_PASSWORD=''                     # set by init_redis_password
REDIS_URL=''                          # unix://:password@socket
MAIL_SECRET_FILE=''                   # set by init_mail_secret
declare -A PID=()            # name -> pid of the running process
declare -A STARTED_AT=()     # name -> $SECONDS when it was started
declare -A BACKOFF=()        # name -> seconds to wait before next restart
declare -A RESTART_AT=()     # name -> $SECONDS when a dead one restarts
STOPPING=0

# --- messages -----------------------------------------------------------

# Prints a line about what the script does, prefixed and timestamped.
say() {
    printf 'run %s: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# Prints an error; the EXIT trap then stops whatever was started.
die() {
    say "error: $*"
    exit 1
}

# Prints the last lines of a process's log, to explain a failure.
show_log_tail() {
    local log="$LOG_DIR/$1.log"
    [ -f "$log" ] || return 0
    say "last lines of $log:"
    tail -n 15 "$log" | sed 's/^/    /' >&2
}

# --- preparation --------------------------------------------------------

# Reads var/run/redis.password, first writing a new random one (mode 600,
# like every file this script writes: see the umask in main), and sets
# the URL every process reaches Redis by.
init_redis_password() {
    local file=$RUN_DIR/redis.password
    if [ ! -s "$file" ]; then
        od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$file.tmp"
        mv -f "$file.tmp" "$file"
    fi
    chmod 600 "$file"
    REDIS_PASSWORD=$(<"$file")
    [ "${#REDIS_PASSWORD}" -ge 32 ] || die "$file holds no usable password"
    REDIS_URL="unix://:$REDIS_PASSWORD@$SOCK"
}

# Writes var/run/mail.secret once (mode 600): the key that signs the
# unsubscribe links of e-mails, read by the workers and nginx.
init_mail_secret() {
    MAIL_SECRET_FILE=$RUN_DIR/mail.secret
    if [ ! -s "$MAIL_SECRET_FILE" ]; then
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$MAIL_SECRET_FILE.tmp"
        mv -f "$MAIL_SECRET_FILE.tmp" "$MAIL_SECRET_FILE"
    fi
    chmod 600 "$MAIL_SECRET_FILE"
}

# Resolves the state directories (absolute) and creates them.
init_paths() {
    VAR=${ECHOSTREAM_VAR:-$ROOT/var}
    mkdir -p "$VAR"
    VAR=$(cd "$VAR" && pwd)
    RUN_DIR=$VAR/run
    LOG_DIR=$VAR/log
    SOCK=$RUN_DIR/redis.sock
    mkdir -p "$RUN_DIR" "$LOG_DIR" "$VAR/redis" "$VAR/cognito" \
        "$VAR/nginx/logs" "$VAR/nginx/tmp" "$VAR/mail"
    # cognito-local stores the users' passwords in plain text, Redis the
    # tenants' data, the rendered configs the Redis password
    chmod -R go= "$VAR"
    # a unix socket path must fit in sockaddr_un (108 bytes with the NUL)
    if [ "${#SOCK}" -gt 100 ]; then
        die "socket path $SOCK is too long; set ECHOSTREAM_VAR to a" \
            "shorter directory"
    fi
}

# Fails unless the build produced everything this script starts.
check_build() {
    local f missing=()
    for f in "$MODULE_SO" "$ROOT/conf/nginx.conf.in" \
        "$ROOT/conf/redis.conf.in"; do
        [ -f "$f" ] || missing+=("$f")
    done
    for f in "${WORKERS[@]}"; do
        [ -x "$ROOT/build/bin/echostream-$f" ] ||
            missing+=("$ROOT/build/bin/echostream-$f")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        die "missing ${missing[*]}; build first with 'make' (make run" \
            "builds before starting)"
    fi
    [ -f "$WEB_ROOT/index.html" ] ||
        die "no dashboard build in $WEB_ROOT; build it with 'make web'"
    [ -x "$NGINX" ] || die "$NGINX not found; run 'make deps'"
    [ -f "$ROOT/node_modules/cognito-local/lib/bin/start.js" ] ||
        die "cognito-local is not installed; run 'make deps'"
    [ -f "$ROOT/node_modules/maildev/bin/maildev" ] ||
        die "maildev is not installed; run 'make deps'"
}

# True when something accepts connections on 127.0.0.1:$1.
port_in_use() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Refuses to start when a port is taken, naming the variable to change.
check_ports() {
    local spec name port
    for spec in "ECHOSTREAM_PORT=$HTTP_PORT" \
        "ECHOSTREAM_REDIS_PORT=$REDIS_PORT" \
        "ECHOSTREAM_COGNITO_PORT=$COGNITO_PORT" \
        "ECHOSTREAM_MAIL_PORT=$MAIL_PORT" \
        "ECHOSTREAM_MAIL_UI_PORT=$MAIL_UI_PORT"; do
        name=${spec%%=*}
        port=${spec#*=}
        case $port in
        '' | *[!0-9]*) die "$name=$port is not a port number" ;;
        esac
        if port_in_use "$port"; then
            die "port 127.0.0.1:$port is already in use (another" \
                "'make run'?); stop what uses it or choose another port," \
                "e.g. $name=$((port + 100)) make run"
        fi
    done
    if [ "$(printf '%s\n' "$HTTP_PORT" "$REDIS_PORT" "$COGNITO_PORT" \
        "$MAIL_PORT" "$MAIL_UI_PORT" | sort -u | wc -l)" -ne 5 ]; then
        die "ECHOSTREAM_PORT, ECHOSTREAM_REDIS_PORT, ECHOSTREAM_COGNITO_PORT," \
            "ECHOSTREAM_MAIL_PORT and ECHOSTREAM_MAIL_UI_PORT must differ"
    fi
}

# Holds var/run/run.lock (on fd 9, which no child inherits) while this
# script runs, so two runs never share one state directory.
take_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    exec 9>"$RUN_DIR/run.lock"
    if ! flock -n 9; then
        die "$VAR is in use by another 'make run' (or processes left" \
            "from one, see $RUN_DIR/pids); stop it or set ECHOSTREAM_VAR"
    fi
}

# Renders template $1 into file $2, replacing each @NAME@ given as NAME=VALUE;
# fails on a placeholder left unreplaced, so a typo never reaches a server.
render() {
    local tmpl=$1 out=$2 text kv left
    shift 2
    text=$(<"$tmpl")
    for kv in "$@"; do
        text=${text//"@${kv%%=*}@"/"${kv#*=}"}
    done
    left=$(grep -o '@[A-Z_]\+@' <<<"$text" | sort -u | tr '\n' ' ' || true)
    [ -z "$left" ] || die "$tmpl: unknown placeholder(s) $left"
    printf '%s\n' "$text" >"$out.tmp"
    mv -f "$out.tmp" "$out"
}

# Prints field $2 of JSON file $1.
json_field() {
    node -e 'process.stdout.write(String(
        JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]]
    ))' "$1" "$2"
}

# --- processes ----------------------------------------------------------

# Starts process $1 with command "${@:2}" in its own session, its output
# appended to var/log/$1.log, and records its pid.
launch() {
    local name=$1
    shift
    printf '\n=== %s: started by run.sh\n' "$(date '+%F %T')" \
        >>"$LOG_DIR/$name.log"
    setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 9>&- &
    PID[$name]=$!
    STARTED_AT[$name]=$SECONDS
    write_pids
}

# Records the running pids, for a person cleaning up after a crash.
write_pids() {
    local name
    for name in "${!PID[@]}"; do
        printf '%s %s\n' "$name" "${PID[$name]}"
    done >"$RUN_DIR/pids"
}

# Starts one named process (redis, cognito, nginx or a worker).
start_one() {
    local name=$1
    case $name in
    redis)
        launch redis redis-server "$RUN_DIR/redis.conf"
        ;;
    cognito)
        # cognito-local keeps its data in .cognito/ of its working
        # directory; the SDK variable keeps a notice out of its log;
        # idp.mjs starts it and mails its codes to the mail catcher
        local js="$ROOT/deploy/local/idp.mjs"
        printf '\n=== %s: started by run.sh\n' "$(date '+%F %T')" \
            >>"$LOG_DIR/cognito.log"
        (cd "$VAR/cognito" && HOST=127.0.0.1 PORT=$COGNITO_PORT \
            ECHOSTREAM_IDP_SMTP=127.0.0.1:$MAIL_PORT \
            AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 \
            exec setsid node "$js" </dev/null >>"$LOG_DIR/cognito.log" \
            2>&1 9>&-) &
        PID[cognito]=$!
        STARTED_AT[cognito]=$SECONDS
        write_pids
        ;;
    nginx)
        launch nginx "$NGINX" -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" \
            -e stderr
        ;;
    demo)
        # the demo's synthetic comments, into the same stream ingest fills
        ECHOSTREAM_REDIS=$REDIS_URL \
            ECHOSTREAM_STREAM_GROUPS=${ECHOSTREAM_STREAM_GROUPS:-enrich} \
            launch demo "$ROOT/build/bin/echostream-ingest" --synthetic \
            "$DEMO_RATE"
        ;;
    mail)
        # the local mail catcher: SMTP and its web inbox, loopback only
        launch mail node "$ROOT/node_modules/maildev/bin/maildev" \
            --ip 127.0.0.1 --smtp "$MAIL_PORT" --web "$MAIL_UI_PORT" \
            --mail-directory "$VAR/mail"
        ;;
    *)
        local args=()
        if [ -n "${ECHOSTREAM_CONFIG:-}" ]; then
            args=(--config "$ECHOSTREAM_CONFIG")
        fi
        # entries wait in the stream for enrichment even before the enrich
        # worker first starts; the raw archive lives with the other state
        # mail goes to the local catcher unless a real transport is named
        local smtp=${ECHOSTREAM_SMTP_URL:-}
        if [ -z "$smtp" ] && [ -z "${ECHOSTREAM_SES_ENDPOINT:-}" ]; then
            smtp=smtp://127.0.0.1:$MAIL_PORT
        fi
        ECHOSTREAM_REDIS=$REDIS_URL \
            ECHOSTREAM_STREAM_GROUPS=${ECHOSTREAM_STREAM_GROUPS:-enrich} \
            ECHOSTREAM_LAKE_DIR=${ECHOSTREAM_LAKE_DIR:-$VAR/lake} \
            ECHOSTREAM_SMTP_URL=$smtp \
            ECHOSTREAM_MAIL_SECRET_FILE=$MAIL_SECRET_FILE \
            ECHOSTREAM_MAIL_BASE_URL=${ECHOSTREAM_MAIL_BASE_URL:-http://127.0.0.1:$HTTP_PORT/} \
            ECHOSTREAM_WEBHOOK_ALLOW_INSECURE=${ECHOSTREAM_WEBHOOK_ALLOW_INSECURE:-true} \
            launch "$name" "$ROOT/build/bin/echostream-$name" "${args[@]}"
        ;;
    esac
}

# True while process $1 runs.
alive() {
    local pid=${PID[$1]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Waits up to $2 seconds for the readiness check "${@:3}" of process $1;
# fails with the process's log when it dies or never gets ready.
wait_ready() {
    local name=$1 limit=$2 end
    shift 2
    end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if ! alive "$name"; then
            show_log_tail "$name"
            die "$name exited during start-up (log: $LOG_DIR/$name.log)"
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            show_log_tail "$name"
            die "$name was not ready after ${limit}s" \
                "(log: $LOG_DIR/$name.log)"
        fi
        sleep 0.1
    done
}

# Readiness checks, one per server.
redis_ready() {
    [ "$(REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -s "$SOCK" ping \
        2>/dev/null)" = PONG ]
}
cognito_ready() {
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$COGNITO_PORT/health"
}
mail_ready() {
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$MAIL_UI_PORT/"
}
nginx_ready() {
    # any HTTP answer will do: /healthz says 503 until the workers report
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$HTTP_PORT/healthz")" != 000 ]
}

# Stops process $1: SIGTERM (SIGQUIT for nginx's graceful stop), then
# SIGKILL to its whole session after STOP_TIMEOUT seconds.
stop_one() {
    local name=$1 pid=${PID[$1]:-} sig=TERM end
    [ -n "$pid" ] || return 0
    [ "$name" = nginx ] && sig=QUIT
    kill -s "$sig" "$pid" 2>/dev/null || true
    end=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) did not stop in ${STOP_TIMEOUT}s; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null ||
            true
    fi
    wait "$pid" 2>/dev/null || true
    unset "PID[$name]"
}

# Stops every process this script started, in STOP_ORDER. Idempotent.
stop_all() {
    local name
    [ "$STOPPING" -eq 0 ] || return 0
    STOPPING=1
    [ "${#PID[@]}" -gt 0 ] && say "stopping"
    for name in "${STOP_ORDER[@]}"; do
        stop_one "$name"
    done
    rm -f "$RUN_DIR/pids"
}

# Signal handler: an orderly stop, then exit 0 (a requested stop succeeded).
on_signal() {
    trap '' INT TERM HUP
    stop_all
    say "stopped"
    exit 0
}

# EXIT handler: nothing outlives the script, whatever made it exit.
on_exit() {
    local rc=$?
    stop_all
    exit "$rc"
}

# --- start-up -----------------------------------------------------------

# Renders redis.conf and starts Redis (data in var/redis).
start_redis() {
    render "$ROOT/conf/redis.conf.in" "$RUN_DIR/redis.conf" \
        "PORT=$REDIS_PORT" "SOCKET=$SOCK" "DIR=$VAR/redis" \
        "PASSWORD=$REDIS_PASSWORD"
    start_one redis
    wait_ready redis 30 redis_ready
}

# Starts cognito-local with tokens issued for its own address, then makes
# sure the pool, app client and demo user exist and writes config.json.
start_cognito() {
    local endpoint="http://127.0.0.1:$COGNITO_PORT" hosted=()
    if [ "${ECHOSTREAM_HOSTED_UI:-0}" = 1 ]; then
        hosted=(--hosted-ui)
    fi
    node "$ROOT/deploy/local/cognito-setup.mjs" issuer \
        --dir "$VAR/cognito" --issuer "$endpoint"
    start_one cognito
    wait_ready cognito 30 cognito_ready
    node "$ROOT/deploy/local/cognito-setup.mjs" setup --dir "$VAR/cognito" \
        --endpoint "$endpoint" --api-base "http://127.0.0.1:$HTTP_PORT/api/v1" \
        --out "$RUN_DIR/config.json" \
        "${hosted[@]}" >>"$LOG_DIR/cognito.log" 2>&1 ||
        {
            show_log_tail cognito
            die "setting up the user pool failed (log: $LOG_DIR/cognito.log)"
        }
}

# The API's http-level directives: tokens of the local user pool ($1 its
# issuer, $2 the dashboard's app client id).
api_http_conf() {
    cat <<EOF
    # the API: tokens of the local user pool (cognito-local)
    echostream_issuer $1;
    echostream_jwks_uri $1/.well-known/jwks.json;
    echostream_client_ids $2;
    echostream_rate_limit 50r/s burst=100;
    # signs the unsubscribe links of e-mails, as the workers do
    echostream_mail_secret_file $MAIL_SECRET_FILE;
    # the cost model's prices: /usage predicts each team's month (docs/cost.md)
    echostream_prices $ROOT/deploy/aws/prices.json;
    # per client address, before any token is verified: a flood of bad
    # tokens or sign-ups from one address is cut off by nginx itself
    limit_req_zone \$binary_remote_addr zone=es_api_addr:10m rate=100r/s;
    limit_req_status 429;
    limit_req_log_level warn;
EOF
}

# The API's locations.
api_server_conf() {
    cat <<'EOF'
        location /api/v1/ {
            limit_req zone=es_api_addr burst=200 nodelay;
            error_page 429 = @es_addr_limited;
            echostream_api;
        }

        # nginx's own 429 (the per-address limit), in the API's error shape
        location @es_addr_limited {
            default_type application/json;
            add_header Retry-After 1 always;
            return 429 '{"error":{"code":"rate_limited","message":"too many requests from this address"}}\n';
        }

        location = /metrics {
            allow 127.0.0.1;
            deny all;
            echostream_metrics;
        }
EOF
}

# Renders nginx.conf and starts nginx; readiness is /healthz answering.
# nginx loads a private copy of the module: a rebuild while it runs (cp
# rewrites the file in place) must not change code mapped into it.
start_nginx() {
    local pool client issuer module="$VAR/nginx/ngx_http_echostream_module.so"
    cp -f "$MODULE_SO" "$module.tmp"
    mv -f "$module.tmp" "$module"
    pool=$(json_field "$VAR/cognito/ids.json" userPoolId)
    client=$(json_field "$VAR/cognito/ids.json" clientId)
    issuer="http://127.0.0.1:$COGNITO_PORT/$pool"
    render "$ROOT/conf/nginx.conf.in" "$VAR/nginx/nginx.conf" \
        "PREFIX=$VAR/nginx" "PORT=$HTTP_PORT" "MODULE=$module" \
        "REDIS=$REDIS_URL" "WEB_ROOT=$WEB_ROOT" "RUN_DIR=$RUN_DIR" \
        "IDP_ORIGINS=http://127.0.0.1:$COGNITO_PORT" \
        "LOG_DIR=$LOG_DIR" "USER=$(id -un)" "GROUP=$(id -gn)" \
        "EXPECT_WORKERS=${WORKERS[*]}" \
        "API_HTTP=$(api_http_conf "$issuer" "$client")" \
        "API_SERVER=$(api_server_conf)"
    "$NGINX" -t -q -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e stderr \
        >>"$LOG_DIR/nginx.log" 2>&1 || {
        show_log_tail nginx
        die "nginx rejected $VAR/nginx/nginx.conf (log: $LOG_DIR/nginx.log)"
    }
    start_one nginx
    wait_ready nginx 30 nginx_ready
}

# The demo: the demo user's team gets the demo topic (once: a topic the
# user deleted or renamed is not brought back while the marker exists),
# then the synthetic source starts. Signing in as the demo user through the
# API also places them in their team, as the dashboard would.
start_demo() {
    local marker=$VAR/cognito/demo-topic.done token api code
    [ "$DEMO" = 1 ] || return 0
    case $DEMO_RATE in
    '' | *[!0-9]*) die "ECHOSTREAM_DEMO_RATE=$DEMO_RATE is not a whole number" ;;
    esac
    api="http://127.0.0.1:$HTTP_PORT/api/v1"
    if [ ! -f "$marker" ]; then
        token=$(ECHOSTREAM_VAR=$VAR node "$ROOT/deploy/local/token.mjs") ||
            die "the demo user could not sign in (log: $LOG_DIR/cognito.log)"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
            -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' -d "$DEMO_TOPIC" \
            "$api/topics")
        case $code in
        200 | 201) say "created the demo topic for the demo user" ;;
        *) die "creating the demo topic answered HTTP $code" ;;
        esac
        : >"$marker"
    fi
    start_one demo
}

# Prints how to use what now runs.
banner() {
    local user password logs
    logs=$(
        IFS=,
        printf '%s' "redis,cognito,mail,nginx,${WORKERS[*]}"
        if [ "$DEMO" = 1 ]; then printf ',demo'; fi
    )
    user=$(sed -n 's/^email: //p' "$VAR/cognito/demo-user.txt")
    password=$(sed -n 's/^password: //p' "$VAR/cognito/demo-user.txt")
    local demo="off (ECHOSTREAM_DEMO=0)"
    if [ "$DEMO" = 1 ]; then
        demo="on: a synthetic source posts $DEMO_RATE comments/s to every"
        demo+=$'\n'"               watched subreddit (ECHOSTREAM_DEMO=0 turns it off)"
    fi
    cat <<EOF

  EchoStream is running.

    Dashboard  http://127.0.0.1:$HTTP_PORT/
    Sign in    $user  /  $password
               (stored in $VAR/cognito/demo-user.txt), or create an
               account: its confirmation code arrives in the Mail inbox
    Demo       $demo
    API        http://127.0.0.1:$HTTP_PORT/api/v1
    Mail       http://127.0.0.1:$MAIL_UI_PORT/  (sign-up and password codes,
               alert and digest e-mails, caught locally: nothing leaves
               this machine)
    Redis      REDISCLI_AUTH=\$(cat $RUN_DIR/redis.password) redis-cli -s $SOCK
               (or -p $REDIS_PORT; the password is required either way)
    Logs       $LOG_DIR/{$logs}.log
               nginx access and error logs: $VAR/nginx/logs/

  Ctrl-C to stop.

EOF
}

# --- supervision --------------------------------------------------------

# Notices a process that died and schedules its restart with a back-off
# that doubles on each quick death and resets after a minute of running.
reap_one() {
    local name=$1 pid=${PID[$1]} rc=0 ran backoff how
    wait "$pid" 2>/dev/null || rc=$?
    unset "PID[$name]"
    how="with status $rc"
    if [ "$rc" -gt 128 ]; then
        how="on signal $(kill -l "$((rc - 128))" 2>/dev/null || echo "$rc")"
    fi
    ran=$((SECONDS - STARTED_AT[$name]))
    backoff=${BACKOFF[$name]:-1}
    if [ "$ran" -ge 60 ]; then
        backoff=1
    fi
    say "$name (pid $pid) exited $how after ${ran}s;" \
        "restarting in ${backoff}s (log: $LOG_DIR/$name.log)"
    RESTART_AT[$name]=$((SECONDS + backoff))
    BACKOFF[$name]=$((backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF : backoff * 2))
    write_pids
}

# One supervision pass: reap the dead, restart those whose back-off is over.
check_all() {
    local name
    for name in "${START_ORDER[@]}"; do
        if [ -n "${PID[$name]:-}" ]; then
            alive "$name" || reap_one "$name"
        elif [ -n "${RESTART_AT[$name]:-}" ] &&
            [ "$SECONDS" -ge "${RESTART_AT[$name]}" ]; then
            unset "RESTART_AT[$name]"
            say "restarting $name"
            start_one "$name"
        fi
    done
}

# Runs until a signal arrives (the handler exits).
supervise() {
    while :; do
        # a signal interrupts `wait` at once, unlike a foreground sleep
        sleep 1 9>&- &
        wait "$!" || true
        check_all
    done
}

main() {
    trap on_exit EXIT
    trap on_signal INT TERM HUP
    if [ "${ECHOSTREAM_SKIP_DEPS:-0}" != 1 ]; then
        "$ROOT/deploy/local/install-deps.sh"
    fi
    # cognito-local runs as it would on the oldest supported Node
    . "$ROOT/deploy/local/node-compat.sh"
    es_node_oldest_rules
    # the state is the tenants' data and the Redis password: this user's
    # alone (files of older runs are brought in line in init_paths)
    umask 077
    init_paths
    init_redis_password
    init_mail_secret
    check_build
    take_lock
    check_ports
    say "state in $VAR, logs in $LOG_DIR"

    start_redis
    start_one mail
    wait_ready mail 30 mail_ready
    start_cognito
    local w
    for w in "${WORKERS[@]}"; do
        start_one "$w"
    done
    start_nginx
    for w in "${WORKERS[@]}"; do
        alive "$w" || {
            show_log_tail "$w"
            die "echostream-$w exited during start-up"
        }
    done
    start_demo
    banner
    supervise
}

main "$@"
