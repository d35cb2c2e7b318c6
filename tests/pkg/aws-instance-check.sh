#!/usr/bin/env bash
#
# aws-instance-check.sh - does what the AWS stack's instance does, in a
# fresh Debian 12 root, and checks the result: the template's user data
# (deploy/aws/template.yaml, evaluated by tests/lib/cfn.mjs with the
# stack's resources given realistic values) writes stack.env, config.json
# and echostream.conf, fetches the release over HTTPS and runs
# deploy/aws/instance-setup.sh's first setup (TlsMode certbot); then
# deploy.sh upgrades it to the next release as over SSM; last, a second
# instance boots in TlsMode alb (docs/deploy.md, "How it is checked").
#
#   sudo bash tests/pkg/aws-instance-check.sh
#   /work/shared/tools/fresh-machine.sh REPO 'bash tests/pkg/aws-instance-check.sh'
#   ES_DEB_DIR=build/deb bash tests/pkg/aws-instance-check.sh   (packages
#                                   already built: no `make deb`)
#
# Like install-check.sh it changes the machine it runs on (packages, a
# root under /var/tmp), so it is for a throwaway machine, not `make test`
# (whose aws_template suite checks the user data offline). How the pieces
# of AWS are stood in for, and why:
#   - the release: `make deb`'s packages, instance-setup.sh, prices.json and
#     SHA256SUMS, laid out as release.yml publishes them, served over HTTPS
#     by `openssl s_server -WWW` on 127.0.0.1 with a certificate from a CA
#     made here, which the instance's root trusts (update-ca-certificates):
#     the scripts' https-only addresses and curl's checks stay as they are;
#   - the instance: debootstrap minbase plus systemd and ca-certificates
#     (what Debian's cloud image has that minbase lacks). A chroot has no
#     init: systemctl runs offline there (SYSTEMD_OFFLINE=1: enable and
#     cat work on the files, start, restart and daemon-reload are ignored,
#     `enable --now` only enables) through a wrapper first on PATH that
#     also records every call, so the check can see what would have been
#     restarted. `systemctl cat amazon-ssm-agent.service` answers yes
#     offline, so the user data skips AWS's SSM agent (from AWS's bucket);
#   - DNS: the Cognito pool's host is resolved when nginx reads its
#     configuration; where this machine has no DNS, the root's /etc/hosts
#     gives it a loopback address;
#   - Let's Encrypt: the stack's default TLS mode, certbot, is set up
#     (Debian's certbot installed, echostream-certificate.service written
#     and enabled) but never started, so certbot never runs: it would need
#     the domain's DNS pointing here. The second instance, TlsMode alb,
#     has no certbot and takes the client's address from X-Forwarded-For;
#   - Redis and nginx are started by hand where a unit would start them:
#     Redis as the redis user with the configuration instance-setup.sh
#     wrote, on a free port, for the ACL users; nginx only as `nginx -t`;
#     the workers only as `--help`, which shows the values they would run
#     with (echostream.conf, their environment file);
#   - the upgrade: deploy.sh itself, against a stand-in `aws` whose
#     send-command runs the command as the SSM agent's AWS-RunShellScript
#     does (sh -c _script.sh, as root) in the root. The next release's
#     packages are the first's repacked at version VERSION+check1
#     (dpkg-deb), so dpkg really upgrades: Redis's data written before it
#     must be there after it (and after a restart of Redis from its files),
#     and what the first setup wrote must be unchanged.
# The last line is "aws-instance-check: N checks passed" or the failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly ROOTFS=${ES_PKG_ROOT:-/var/tmp/es-aws-root}
readonly WORK=${ES_AWS_WORK:-/var/tmp/es-aws-release}
readonly SUITE=bookworm
readonly WORKERS=(ingest enrich mirror summarize alert)
# the stack's resources, as CloudFormation would name them
readonly REGION=eu-west-1
readonly DOMAIN=echostream.example.com
readonly POOL=eu-west-1_Ab12Cd34E
readonly CLIENT=5example1client2id3abcdefgh
readonly POOL_DOMAIN=echostream-123456789012
readonly QUEUE=https://sqs.eu-west-1.amazonaws.com/123456789012/echostream-MirrorQueue-Q1w2E3r4T5y6
readonly BUCKET=echostream-archivebucket-1a2b3c4d5e6f
server_pid=''
redis_port=''

readonly CHECK=aws-instance-check
# shellcheck source=tests/pkg/lib.sh
. tests/pkg/lib.sh
# runs a command inside the instance's root, with cloud-init's PATH
in_root() {
    chroot "$ROOTFS" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 HOME=/root "$@"
}
redis_cli() { # user password command...
    local user=$1 pw=$2
    shift 2
    in_root env REDISCLI_AUTH="$pw" redis-cli -p "$redis_port" --user "$user" "$@" 2>&1
}
stop_redis() {
    if [ -n "$redis_port" ]; then
        redis_cli es-admin "$(cat "$ROOTFS/root/redis-admin.password")" shutdown \
            >/dev/null 2>&1 || true
        redis_port=''
    fi
}

cleanup() {
    stop_redis
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    unmount_root
}
trap cleanup EXIT

# a TCP port nothing listens on (bash's /dev/tcp: no tool needed)
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs packages)"

if [ -n "${ES_DEB_DIR:-}" ]; then
    debdir=$ES_DEB_DIR
else
    # no daemon starts from a maintainer script on the building machine
    deny_starts ""
    say "make deb"
    make deb
    debdir=build/deb
fi
mapfile -t debs < <(ls "$debdir"/*.deb)
[ "${#debs[@]}" -eq 2 ] || fail "$debdir holds ${#debs[@]} packages, not 2"
version=$(dpkg-deb -f "${debs[0]}" Version)
ok "packages: ${debs[*]##*/}"

# A release as release.yml publishes it (.github/workflows/release.yml):
# the packages, instance-setup.sh, prices.json and SHA256SUMS.
make_release() { # dir deb...
    local dir=$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$@" deploy/aws/instance-setup.sh deploy/aws/prices.json "$dir/"
    (cd "$dir" && sha256sum -- *.deb instance-setup.sh prices.json >SHA256SUMS)
}

say "the release, served over HTTPS"
rm -rf "$WORK"
mkdir -p "$WORK/ca"
make_release "$WORK/www/v1" "${debs[@]}"
(
    cd "$WORK/ca"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=aws-instance-check CA' \
        -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' \
        -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
        -days 2 -extfile ext.cnf -out server.crt 2>/dev/null
)
port=$(free_port)
# (it serves the files under www/, its current directory, and nothing else)
(cd "$WORK/www" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$port" \
    -cert ../ca/server.crt -key ../ca/server.key </dev/null >"$WORK/server.log" 2>&1) &
server_pid=$!
url1="https://127.0.0.1:$port/v1"
for _ in $(seq 50); do
    curl -fsS --cacert "$WORK/ca/ca.crt" -o /dev/null "$url1/SHA256SUMS" 2>/dev/null && break
    sleep 0.2
done
curl -fsS --cacert "$WORK/ca/ca.crt" -o /dev/null "$url1/SHA256SUMS" ||
    fail "the release server on $port does not answer"
ok "release at $url1: $(awk '{print $2}' "$WORK/www/v1/SHA256SUMS" | tr '\n' ' ')"

say "the user data, from the template"
# The template's user data for TlsMode, with the stack's resources given
# the values above (CloudFormation's Fn::Sub, by tests/lib/cfn.mjs).
user_data() { # tls-mode release-url
    # shellcheck disable=SC2016 # JavaScript, not shell
    node --input-type=module -e '
import { pathToFileURL } from "node:url";
const { Evaluator, parseTemplate } = await import(
  pathToFileURL(process.cwd() + "/tests/lib/cfn.mjs"));
const [mode, url, domain, region, ...values] = process.argv.slice(1);
const ud = new Evaluator(parseTemplate("deploy/aws/template.yaml"), {
  DomainName: domain, SenderEmail: "alerts@example.com",
  OperatorEmail: "ops@example.com", PackageUrl: url, TlsMode: mode,
}, { "AWS::Region": region }).resources().Instance.Properties.UserData;
const known = Object.fromEntries(values.map((v) => v.split(/=(.*)/s).slice(0, 2)));
process.stdout.write(ud.replace(/<([A-Za-z.]+)>/g, (_, name) => {
  if (!(name in known)) throw new Error(`the user data names ${name}: give it a value`);
  return known[name];
}));
' "$1" "$2" "$DOMAIN" "$REGION" "UserPool=$POOL" "UserPoolClient=$CLIENT" \
        "UserPoolDomain=$POOL_DOMAIN" "MirrorQueue.QueueUrl=$QUEUE" \
        "ArchiveBucket=$BUCKET"
}
user_data certbot "$url1" >"$WORK/user-data.certbot"
user_data alb "$url1" >"$WORK/user-data.alb"
[ "$(head -n 1 "$WORK/user-data.certbot")" = '#!/bin/bash' ] ||
    fail "the user data is not a bash script"
[ "$(diff "$WORK/user-data.certbot" "$WORK/user-data.alb" | grep -c '^[<>]')" -eq 2 ] ||
    fail "the TLS modes' user data differ in more than ES_TLS_MODE"
ok "user data: $(wc -l <"$WORK/user-data.certbot") lines, every resource given a value"

say "a fresh $SUITE instance in $ROOTFS"
# (after make deb: its install-deps.sh has filled apt's lists)
fresh_root systemd,ca-certificates "$ROOTFS.alb"
# systemctl offline, every call recorded (see the header)
cat >"$ROOTFS/usr/local/sbin/systemctl" <<'EOF'
#!/bin/sh
# aws-instance-check.sh: no init in this root; systemctl works offline
echo "$*" >>/var/log/systemctl-calls
for a do
    shift
    [ "$a" = --now ] || set -- "$@" "$a"
done
SYSTEMD_OFFLINE=1 exec /usr/bin/systemctl "$@"
EOF
chmod 755 "$ROOTFS/usr/local/sbin/systemctl"
: >"$ROOTFS/var/log/systemctl-calls"
cp "$WORK/ca/ca.crt" "$ROOTFS/usr/local/share/ca-certificates/aws-instance-check.crt"
in_root update-ca-certificates >/dev/null
if ! getent hosts "cognito-idp.$REGION.amazonaws.com" >/dev/null; then
    printf '127.0.0.1 cognito-idp.%s.amazonaws.com\n' "$REGION" >>"$ROOTFS/etc/hosts"
fi
# a second instance, for the load balancer's mode at the end
cp -a "$ROOTFS" "$ROOTFS.alb"
mount_root() {
    local m
    for m in proc sys dev dev/pts; do
        mount --bind "/$m" "$ROOTFS/$m"
        mount --make-private "$ROOTFS/$m"
    done
}
mount_root
in_root dpkg -s nginx >/dev/null 2>&1 && fail "the fresh root has nginx already"
ok "fresh instance: $(in_root dpkg-query -W -f '.\n' | wc -l) packages, no nginx, no redis"

# the user data, run as cloud-init runs it: as root, once
first_boot() { # tls-mode
    install -m 700 "$WORK/user-data.$1" "$ROOTFS/var/lib/user-data.sh"
    t0=$(date +%s)
    if ! in_root bash /var/lib/user-data.sh; then
        tail -n 40 "$ROOTFS/var/log/echostream-setup.log"
        fail "the user data failed (above: the end of /var/log/echostream-setup.log)"
    fi
    tail -n 5 "$ROOTFS/var/log/echostream-setup.log"
    ok "$1: the user data and instance-setup.sh ran in $(($(date +%s) - t0)) s"
}
say "first boot (TlsMode certbot): the user data"
first_boot certbot

for p in echostream libnginx-mod-http-echostream nginx redis-server certbot \
    python3-certbot-nginx; do
    # shellcheck disable=SC2016 # the ${…} is dpkg-query's format, not the shell's
    s=$(in_root dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$s" = installed ] || fail "$p is not installed ($s)"
done
# shellcheck disable=SC2016 # the ${…} is dpkg-query's format, not the shell's
[ "$(in_root dpkg-query -W -f '${Version}' echostream)" = "$version" ] ||
    fail "echostream is not at $version"
ok "installed: echostream $version, the module, nginx, redis-server, certbot"

say "the stack's values where the programs read them"
conf=$ROOTFS/etc/echostream/echostream.conf
for line in "aws.region = $REGION" "mirror.queue_url = $QUEUE" "s3.bucket = $BUCKET" \
    "mail.base_url = https://$DOMAIN/" "lake.dir = /var/lib/echostream/lake"; do
    grep -qxF "$line" "$conf" || fail "echostream.conf lacks '$line': $(cat "$conf")"
done
ok "echostream.conf: the region, the queue, the bucket, the site, the enrich unit's lake"
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const want = { region: process.argv[2], userPoolId: process.argv[3],
  clientId: process.argv[4], domain: process.argv[5] };
require("assert").deepStrictEqual(c.cognito, want);
' "$ROOTFS/etc/echostream/config.json" "$REGION" "$POOL" "$CLIENT" \
    "$POOL_DOMAIN.auth.$REGION.amazoncognito.com" || fail "config.json: $(cat "$ROOTFS/etc/echostream/config.json")"
ok "config.json: the user pool, the app client and the Hosted UI domain"
grep -qx "ES_TLS_MODE=certbot" "$ROOTFS/etc/echostream/stack.env" || fail "stack.env"
[ -s "$ROOTFS/etc/echostream/.instance-setup-done" ] || fail "first setup not marked done"
# (stat in the root: the names are the root's users and groups)
m=$(in_root stat -c '%a %U %G' /etc/echostream/mail.secret)
[ "$m" = "640 root echostream" ] || fail "mail.secret: $m"
grep -qxE '[0-9a-f]{48}' "$ROOTFS/etc/echostream/mail.secret" || fail "mail.secret's content"
cmp -s "$ROOTFS/etc/echostream/prices.json" deploy/aws/prices.json || fail "prices.json"
ok "stack.env, mail.secret (640 root:echostream), prices.json, the done mark"

# the workers read it: their --help shows the values in force, here with
# the environment their units give them (the file instance-setup.sh wrote)
whelp() { # worker
    in_root env -i "$(cat "$ROOTFS/etc/default/echostream-$1")" \
        "/usr/bin/echostream-$1" --config /etc/echostream/echostream.conf --help 2>&1
}
for want in "enrich:now \"$BUCKET\" (file)" "enrich:now \"/var/lib/echostream/lake\" (file)" \
    "mirror:now \"$QUEUE\" (file)" "alert:now \"EchoStream <alerts@example.com>\" (file)" \
    "summarize:now \"$REGION\" (file)"; do
    h=$(whelp "${want%%:*}")
    grep -qF "${want#*:}" <<<"$h" || fail "echostream-${want%%:*} does not show ${want#*:}"
done
for w in "${WORKERS[@]}"; do
    h=$(whelp "$w")
    grep -qF "now \"redis://es-$w:***@127.0.0.1:6379/0\" (env)" <<<"$h" ||
        fail "echostream-$w's Redis URL: $(grep 'ECHOSTREAM_REDIS,' <<<"$h")"
done
ok "the workers read the stack's values and their own Redis user (--help: in force, password hidden)"

say "Redis: the production configuration and one ACL user per program"
declare -A pw
for w in "${WORKERS[@]}"; do
    f=$ROOTFS/etc/default/echostream-$w
    m=$(in_root stat -c '%a %U' "/etc/default/echostream-$w")
    [ "$m" = "600 root" ] || fail "$f: $m"
    pw[$w]=$(sed -n "s|^ECHOSTREAM_REDIS=redis://es-$w:\\([0-9a-f]\\{48\\}\\)@127\\.0\\.0\\.1:6379/0\$|\\1|p" "$f")
    [ -n "${pw[$w]}" ] || fail "$f: $(sed 's/:[0-9a-f]*@/:…@/' "$f")"
done
site=$ROOTFS/etc/nginx/sites-available/echostream
pw[nginx]=$(sed -n 's|^echostream_redis redis://es-nginx:\([0-9a-f]\{48\}\)@127\.0\.0\.1:6379/0;$|\1|p' "$site")
[ -n "${pw[nginx]}" ] || fail "the nginx site has no es-nginx password"
pw[admin]=$(cat "$ROOTFS/root/redis-admin.password")
[ "$(sort -u < <(printf '%s\n' "${pw[@]}") | wc -l)" -eq 7 ] ||
    fail "the seven Redis users do not have seven passwords"
grep -q "^aclfile /etc/redis/users.acl" "$ROOTFS/etc/redis/redis.conf" || fail "redis.conf"
ok "seven Redis passwords: the workers' environment files (600 root), the site, root's"

# Redis as its unit would run it (Debian's redis-server.service: the redis
# user, /etc/redis/redis.conf), on a free port instead of 6379
start_redis() {
    redis_port=$(free_port)
    in_root runuser -u redis -- redis-server /etc/redis/redis.conf \
        --port "$redis_port" --daemonize yes --pidfile /tmp/redis-check.pid ||
        fail "redis-server does not start with /etc/redis/redis.conf"
    for _ in $(seq 50); do
        [ "$(redis_cli es-admin "${pw[admin]}" ping)" = PONG ] && return 0
        sleep 0.2
    done
    tail -n 20 "$ROOTFS/var/log/redis/redis-server.log"
    fail "redis-server on $redis_port does not answer es-admin"
}
start_redis
for w in admin "${WORKERS[@]}" nginx; do
    r=$(redis_cli "es-$w" "${pw[$w]}" ping)
    [ "$r" = PONG ] || fail "es-$w: $r"
done
r=$(in_root redis-cli -p "$redis_port" ping 2>&1)
grep -q NOAUTH <<<"$r" || fail "the default user is let in: $r"
r=$(redis_cli es-ingest "${pw[ingest]}" get 'es:{t:acme}:topics')
grep -q NOPERM <<<"$r" || fail "es-ingest reads a tenant's keys: $r"
r=$(redis_cli es-ingest "${pw[ingest]}" xadd 'es:{ingest}:comments' '*' id check1)
grep -qE '^[0-9]+-[0-9]+$' <<<"$r" || fail "es-ingest cannot add to the stream: $r"
r=$(redis_cli es-admin "${pw[admin]}" set 'es:{t:check}:kept' before-upgrade)
[ "$r" = OK ] || fail "es-admin cannot write: $r"
maxmem=$(redis_cli es-admin "${pw[admin]}" config get maxmemory | tail -n 1)
[ "$maxmem" -gt 0 ] || fail "maxmemory $maxmem"
ok "redis-server runs the written configuration: every user in with its password, default off, es-ingest kept to its keys, maxmemory $((maxmem / 1048576)) MiB"

say "nginx and the units"
in_root nginx -t 2>&1 | tail -n 2
in_root nginx -t >/dev/null 2>&1 || fail "nginx -t"
grep -q "^server_name $DOMAIN;\|^    server_name $DOMAIN;" "$site" || fail "server_name"
grep -q "^echostream_cognito $REGION $POOL;" "$site" || fail "echostream_cognito"
grep -q "^echostream_client_ids $CLIENT;" "$site" || fail "echostream_client_ids"
grep -q '^echostream_mail_secret_file /etc/echostream/mail.secret;' "$site" || fail "mail secret"
grep -q '^echostream_prices /etc/echostream/prices.json t4g.small 20;' "$site" || fail "prices"
grep -q "connect-src 'self' https://cognito-idp.$REGION.amazonaws.com https://$POOL_DOMAIN.auth.$REGION.amazoncognito.com;" "$site" ||
    fail "the CSP's connect-src"
[ "$(readlink "$ROOTFS/etc/nginx/sites-enabled/echostream")" = /etc/nginx/sites-available/echostream ] ||
    fail "the site is not enabled"
[ ! -e "$ROOTFS/etc/nginx/sites-enabled/default" ] || fail "the default site is still enabled"
ok "nginx -t passes with the site for $DOMAIN (pool, client, mail secret, prices, CSP)"

units=(/lib/systemd/system/echostream.target /etc/systemd/system/echostream-certificate.service)
for w in "${WORKERS[@]}"; do units+=("/lib/systemd/system/echostream-$w.service"); done
out=$(in_root systemd-analyze verify "${units[@]}" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
ok "systemd-analyze verify: nothing to say about ${#units[@]} units"
wants=$ROOTFS/etc/systemd/system/multi-user.target.wants
for u in echostream.target echostream-certificate.service redis-server.service nginx.service; do
    [ -L "$wants/$u" ] || fail "$u is not enabled"
done
calls=$ROOTFS/var/log/systemctl-calls
for c in 'restart redis-server' 'restart nginx' 'enable --now echostream.target' \
    'start --no-block echostream-certificate.service'; do
    grep -qx "$c" "$calls" || fail "no 'systemctl $c': $(cat "$calls")"
done
ok "enabled at boot: echostream.target, echostream-certificate.service, redis-server, nginx; started: $(grep -c . "$calls") systemctl calls"

say "upgrade: deploy.sh --package-url NEXT-RELEASE, its command run as SSM would"
# the next release: the same packages at a higher version
v2=$version+check1
mkdir -p "$WORK/debs2"
for d in "${debs[@]}"; do
    rm -rf "$WORK/repack"
    dpkg-deb -R "$d" "$WORK/repack"
    sed -i -e "s/^Version: .*/Version: $v2/" -e "s/(= $version)/(= $v2)/g" \
        "$WORK/repack/DEBIAN/control"
    dpkg-deb -b "$WORK/repack" \
        "$WORK/debs2/$(dpkg-deb -f "$d" Package)_${v2}_$(dpkg-deb -f "$d" Architecture).deb" >/dev/null
done
rm -rf "$WORK/repack"
make_release "$WORK/www/v2" "$WORK"/debs2/*.deb
url2="https://127.0.0.1:$port/v2"
# what the first setup made, which the upgrade must leave as it is
kept=(etc/echostream/echostream.conf etc/echostream/config.json etc/echostream/stack.env
    etc/echostream/mail.secret etc/redis/redis.conf etc/redis/users.acl
    etc/nginx/sites-available/echostream root/redis-admin.password
    etc/systemd/system/echostream-certificate.service)
for w in "${WORKERS[@]}"; do kept+=("etc/default/echostream-$w"); done
(cd "$ROOTFS" && sha256sum -- "${kept[@]}") >"$WORK/kept.sum"
: >"$ROOTFS/var/log/systemctl-calls"

# The AWS CLI's stand-in: the stack exists with its outputs, deploy has
# nothing to change, and send-command does what the SSM agent's
# AWS-RunShellScript does: the commands, one a line, in _script.sh, run
# with `sh -c` (dash) as root on the instance, here the root.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/aws" <<'AWS'
#!/bin/bash
# aws-instance-check.sh's stand-in for the AWS CLI (see there)
set -euo pipefail
all=" $* "
case "$all" in
*" cloudformation describe-stacks "*"--query "*)
    key=${all#*OutputKey==\'}
    key=${key%%\'*}
    case "$key" in
    InstanceId) echo i-0aws1instance2check ;;
    DashboardUrl) echo "https://$ES_CHECK_DOMAIN/" ;;
    DnsRecord) echo 203.0.113.7 ;;
    *) echo "$key-value" ;;
    esac
    ;;
*" cloudformation describe-stacks "*) echo '{"Stacks": [{}]}' ;;
*" cloudformation deploy "*) echo "No changes to deploy." ;;
*" ssm send-command "*)
    while [ $# -gt 0 ] && [ "$1" != --parameters ]; do shift; done
    mkdir -p "$ES_CHECK_ROOT/var/lib/ssm"
    node -e 'process.stdout.write(JSON.parse(process.argv[1]).commands.join("\n") + "\n")' \
        "$2" >"$ES_CHECK_ROOT/var/lib/ssm/_script.sh"
    chmod 700 "$ES_CHECK_ROOT/var/lib/ssm/_script.sh"
    if chroot "$ES_CHECK_ROOT" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 HOME=/root sh -c /var/lib/ssm/_script.sh \
        >"$ES_CHECK_WORK/ssm.log" 2>&1; then
        echo Success >"$ES_CHECK_WORK/ssm.status"
    else
        echo Failed >"$ES_CHECK_WORK/ssm.status"
    fi
    echo 0123-command-id
    ;;
*" ssm get-command-invocation "*"--query Status "*) cat "$ES_CHECK_WORK/ssm.status" ;;
*" ssm get-command-invocation "*) tail -n 30 "$ES_CHECK_WORK/ssm.log" ;;
*) echo "aws stand-in: unexpected call: $*" >&2; exit 2 ;;
esac
AWS
chmod 755 "$WORK/bin/aws"
t0=$(date +%s)
if ! out=$(PATH="$WORK/bin:$PATH" ES_CHECK_ROOT=$ROOTFS ES_CHECK_WORK=$WORK \
    ES_CHECK_DOMAIN=$DOMAIN ECHOSTREAM_POLL_SECONDS=0 \
    deploy/aws/deploy.sh --region "$REGION" --package-url "$url2" 2>&1); then
    printf '%s\n' "$out"
    tail -n 30 "$WORK/ssm.log" 2>/dev/null || true
    fail "deploy.sh's upgrade"
fi
printf '%s\n' "$out" | tail -n 4
tail -n 3 "$WORK/ssm.log"
grep -q 'upgrade done' <<<"$out" || fail "deploy.sh did not upgrade"
# shellcheck disable=SC2016 # the ${…} is dpkg-query's format, not the shell's
for p in echostream libnginx-mod-http-echostream; do
    [ "$(in_root dpkg-query -W -f '${Version}' "$p")" = "$v2" ] || fail "$p is not at $v2"
done
ok "deploy.sh upgraded the instance to $v2 in $(($(date +%s) - t0)) s (SSM's command under sh)"

(cd "$ROOTFS" && sha256sum --quiet -c "$WORK/kept.sum") || fail "the upgrade changed the configuration"
calls=$ROOTFS/var/log/systemctl-calls
for c in 'restart echostream.target' 'restart nginx'; do
    grep -qx "$c" "$calls" || fail "no 'systemctl $c': $(cat "$calls")"
done
grep -q 'restart redis-server' "$calls" && fail "the upgrade restarted Redis"
in_root nginx -t >/dev/null 2>&1 || fail "nginx -t after the upgrade"
ok "configuration kept (${#kept[@]} files unchanged), the workers and nginx restarted, Redis not, nginx -t passes"

r=$(redis_cli es-admin "${pw[admin]}" get 'es:{t:check}:kept')
[ "$r" = before-upgrade ] || fail "Redis lost a key in the upgrade: $r"
stop_redis
start_redis
r=$(redis_cli es-admin "${pw[admin]}" get 'es:{t:check}:kept')
[ "$r" = before-upgrade ] || fail "Redis lost a key on restart: $r"
r=$(redis_cli es-admin "${pw[admin]}" xrange 'es:{ingest}:comments' - + | grep -c check1 || true)
[ "$r" -eq 1 ] || fail "Redis lost the stream's entry"
ok "Redis's data kept through the upgrade and a restart from its files"
stop_redis

say "first boot (TlsMode alb): a second instance"
unmount_root
rm -rf --one-file-system "$ROOTFS"
mv "$ROOTFS.alb" "$ROOTFS"
mount_root
first_boot alb
grep -qx 'ES_TLS_MODE=alb' "$ROOTFS/etc/echostream/stack.env" || fail "stack.env"
alb=$ROOTFS/etc/nginx/conf.d/echostream-alb.conf
grep -qx 'real_ip_header X-Forwarded-For;' "$alb" || fail "no echostream-alb.conf"
grep -qx 'set_real_ip_from 10.0.0.0/8;' "$alb" || fail "echostream-alb.conf: $(cat "$alb")"
in_root nginx -t >/dev/null 2>&1 || fail "nginx -t: $(in_root nginx -t 2>&1)"
grep -q '^real_ip_header X-Forwarded-For;' <<<"$(in_root nginx -T 2>/dev/null)" ||
    fail "nginx does not read echostream-alb.conf"
[ ! -e "$ROOTFS/etc/systemd/system/echostream-certificate.service" ] ||
    fail "a certificate unit behind the load balancer"
in_root dpkg -s certbot >/dev/null 2>&1 && fail "certbot installed behind the load balancer"
[ -L "$ROOTFS/etc/systemd/system/multi-user.target.wants/echostream.target" ] ||
    fail "echostream.target is not enabled"
ok "alb: the client's address from X-Forwarded-For, nginx -t passes, no certbot, echostream.target enabled"

cleanup
rm -rf --one-file-system "$ROOTFS"
printf 'aws-instance-check: %d checks passed\n' "$checks"
