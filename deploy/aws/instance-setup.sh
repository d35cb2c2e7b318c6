#!/usr/bin/env bash
#
# instance-setup.sh - installs or upgrades EchoStream on the AWS stack's
# instance (Debian 12), from a release's files. Run as root.
#
#   instance-setup.sh RELEASE_URL
#
# RELEASE_URL is where a release's files are: SHA256SUMS, this script and
# the .deb packages (echostream, libnginx-mod-http-echostream) for amd64
# and arm64. The instance's user data runs it at first boot; deploy.sh runs
# it again over SSM Run Command to upgrade. Every package is checked
# against SHA256SUMS before apt installs it.
#
# The stack's values are already on the box, written by the user data:
# /etc/echostream/stack.env (domain, region, user pool, TLS mode),
# /etc/echostream/echostream.conf (the workers' AWS settings) and
# /etc/echostream/config.json (the dashboard's). On the first run this
# script does the rest of docs/install.md's "First start": production
# Redis with one ACL user per program and a random password each, the
# workers' environment files, the unsubscribe-link secret, the nginx site
# for the domain, then TLS (Let's Encrypt through certbot, retried until
# the domain's DNS points here; or, behind the load balancer, which holds
# the certificate, only the client's address taken from X-Forwarded-For).
#
# Upgrades keep everything made on the first run (passwords, secrets,
# certificates, Redis's data on disk): only the packages are replaced, then
# the workers restart (each finishes its batch; unacknowledged stream
# entries are taken over on start) and nginx restarts to load the new
# module. Nothing in /var/lib/redis is touched, so no data is lost.
set -euo pipefail

# apt-get waits up to 10 minutes for another apt or dpkg to finish
APT_WAIT=(-o DPkg::Lock::Timeout=600)

readonly STACK_ENV=/etc/echostream/stack.env
readonly DONE=/etc/echostream/.instance-setup-done
readonly WORKERS=(ingest enrich mirror summarize alert)

say() { printf 'instance-setup: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

usage() {
    sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'
}

# 48 hex characters from the kernel's random source
secret() {
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# Downloads the release's packages for this machine's architecture into
# the current directory and checks them against SHA256SUMS.
fetch_packages() { # url
    local url=$1 arch name
    arch=$(dpkg --print-architecture)
    curl -fsSL --retry 5 -o SHA256SUMS "$url/SHA256SUMS"
    grep -E "  (echostream|libnginx-mod-http-echostream)_[^ ]*_($arch|all)\\.deb\$" \
        SHA256SUMS >wanted || die "no $arch packages listed in $url/SHA256SUMS"
    while read -r _ name; do
        curl -fsSL --retry 5 -o "$name" "$url/$name"
    done <wanted
    sha256sum -c wanted
}

# The cost model's price file (docs/cost.md), when the release has one,
# checked against SHA256SUMS like the packages: nginx reads it for the
# month's prediction in /usage. Replaced on every upgrade, so a release
# with newer prices brings them.
install_prices() { # url
    local url=$1
    grep -E '  prices\.json$' SHA256SUMS >prices.sum || return 0
    curl -fsSL --retry 5 -o prices.json "$url/prices.json"
    sha256sum -c prices.sum
    install -m 644 prices.json /etc/echostream/prices.json
}

install_packages() {
    say "installing $(awk '{print $2}' wanted | tr '\n' ' ')"
    # at boot unattended-upgrades may hold the package locks for minutes:
    # wait for them (APT_WAIT) instead of failing the setup
    apt-get update -q "${APT_WAIT[@]}"
    # --force-confold keeps the echostream.conf the stack wrote
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_WAIT[@]}" \
        -o Dpkg::Options::=--force-confold \
        "$(pwd)"/*.deb
}

# Production Redis: the example configuration, maxmemory from this box's
# memory (docs/install.md's rule: RAM about 1.6 x maxmemory), and the ACL
# users with fresh passwords. Prints nothing; writes the passwords into
# the workers' environment files and returns nginx's in NGINX_REDIS_PW.
setup_redis() {
    local mem_kb maxmem_mb w pw acl=/etc/redis/users.acl
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    maxmem_mb=$((mem_kb * 10 / 16 / 1024))
    sed "s/^maxmemory .*/maxmemory ${maxmem_mb}mb/" \
        /etc/echostream/redis-production.conf.example >/etc/redis/redis.conf
    grep -v '^#' /etc/echostream/users.acl.example | grep -v '^$' >"$acl.new"
    for w in admin "${WORKERS[@]}" nginx; do
        pw=$(secret)
        sed -i "s/^user es-$w on >CHANGE-ME-$w /user es-$w on >$pw /" "$acl.new"
        case " ${WORKERS[*]} " in
        *" $w "*)
            install -m 600 /dev/null "/etc/default/echostream-$w"
            printf 'ECHOSTREAM_REDIS=redis://es-%s:%s@127.0.0.1:6379/0\n' \
                "$w" "$pw" >"/etc/default/echostream-$w"
            ;;
        esac
        if [ "$w" = nginx ]; then NGINX_REDIS_PW=$pw; fi
        if [ "$w" = admin ]; then
            install -m 600 /dev/null /root/redis-admin.password
            printf '%s\n' "$pw" >/root/redis-admin.password
        fi
    done
    grep -q 'CHANGE-ME' "$acl.new" && die "a user of users.acl.example kept its example password"
    install -m 640 -o redis -g redis "$acl.new" "$acl"
    rm -f "$acl.new"
    chown redis:redis /etc/redis/redis.conf
    chmod 640 /etc/redis/redis.conf
    systemctl restart redis-server
}

# The unsubscribe-link secret, read by nginx (root) and the workers.
setup_mail_secret() {
    install -m 640 -o root -g echostream /dev/null /etc/echostream/mail.secret
    secret >/etc/echostream/mail.secret
}

# The nginx site for the domain, from the example the package installs.
setup_nginx() {
    local site=/etc/nginx/sites-available/echostream csp_idp prices
    local type=${ES_INSTANCE_TYPE:-t4g.small} gb=${ES_VOLUME_SIZE:-20}
    csp_idp="https://cognito-idp.$ES_REGION.amazonaws.com https://$ES_AUTH_DOMAIN"
    # the prediction only for an instance type the price file prices (an
    # unpriced one would fail nginx -t)
    prices='s|^#echostream_prices |#echostream_prices |'
    if grep -q "\"ec2_${type//./_}_hour\"" /etc/echostream/prices.json 2>/dev/null; then
        prices="s|^#echostream_prices .*;|echostream_prices /etc/echostream/prices.json $type $gb;|"
    fi
    sed -e "s|^echostream_redis redis://es-nginx:CHANGE-ME@|echostream_redis redis://es-nginx:$NGINX_REDIS_PW@|" \
        -e "s|^echostream_cognito .*;|echostream_cognito $ES_REGION $ES_USER_POOL_ID;|" \
        -e "s|^echostream_client_ids .*;|echostream_client_ids $ES_CLIENT_ID;|" \
        -e "s|^#echostream_mail_secret_file |echostream_mail_secret_file |" \
        -e "$prices" \
        -e "s|server_name echostream.example.org;|server_name $ES_DOMAIN;|" \
        -e "s|https://cognito-idp.eu-west-1.amazonaws.com|$csp_idp|" \
        /etc/echostream/nginx-site.conf.example >"$site.new"
    # in a directive, not in a comment (the example shows a Sentinel URL
    # in one, which stays an example)
    grep -qE '^[^#]*CHANGE-ME' "$site.new" && die "the nginx site kept an example password"
    install -m 640 "$site.new" "$site"
    rm -f "$site.new"
    ln -sf "$site" /etc/nginx/sites-enabled/echostream
    rm -f /etc/nginx/sites-enabled/default
    if [ ! -e /etc/nginx/modules-enabled/50-mod-http-echostream.conf ]; then
        ln -s /usr/share/nginx/modules-available/mod-http-echostream.conf \
            /etc/nginx/modules-enabled/50-mod-http-echostream.conf
    fi
    nginx -t
    systemctl restart nginx
}

# Behind the stack's load balancer (TlsMode alb) every request comes from
# one of the balancer's addresses, so the site's per-address request limit
# (docs/api.md) would be one limit shared by everyone. nginx takes the
# client's address from X-Forwarded-For instead: the last address in it,
# the one the balancer appended (real_ip_recursive off), so a client
# cannot choose its own. Only the balancer reaches port 80 (the instance's
# security group), from its nodes' addresses in the VPC: the private
# ranges. Written on every run, so a stack set up before it gets it.
setup_alb() {
    cat >/etc/nginx/conf.d/echostream-alb.conf <<'EOF'
# written by EchoStream's instance-setup.sh: behind the stack's load
# balancer, the client's address is the last one of X-Forwarded-For
set_real_ip_from 10.0.0.0/8;
set_real_ip_from 172.16.0.0/12;
set_real_ip_from 192.168.0.0/16;
real_ip_header X-Forwarded-For;
real_ip_recursive off;
EOF
}

# Let's Encrypt through Debian's certbot. The domain's DNS may not point at
# this box yet (the record is made after the stack gives the address), so
# a unit retries every five minutes until certbot succeeds; certbot's own
# timer renews from then on.
setup_certbot() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${APT_WAIT[@]}" certbot \
        python3-certbot-nginx
    cat >/etc/systemd/system/echostream-certificate.service <<EOF
[Unit]
Description=EchoStream: first Let's Encrypt certificate for $ES_DOMAIN
After=network-online.target nginx.service
Wants=network-online.target
ConditionPathExists=!/etc/letsencrypt/live/$ES_DOMAIN/fullchain.pem
StartLimitIntervalSec=0

[Service]
Type=oneshot
ExecStart=/usr/bin/certbot --nginx --non-interactive --agree-tos --redirect -m $ES_OPERATOR_EMAIL -d $ES_DOMAIN
Restart=on-failure
RestartSec=300

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable echostream-certificate.service
    systemctl start --no-block echostream-certificate.service
}

first_setup() {
    setup_redis
    setup_mail_secret
    if [ "$ES_TLS_MODE" = alb ]; then
        setup_alb
    fi
    setup_nginx
    if [ "$ES_TLS_MODE" = certbot ]; then
        setup_certbot
    fi
    systemctl enable --now echostream.target
    date -u +%Y-%m-%dT%H:%M:%SZ >"$DONE"
}

upgrade_restart() {
    if [ "$ES_TLS_MODE" = alb ]; then
        setup_alb
    fi
    systemctl daemon-reload
    systemctl restart echostream.target
    nginx -t
    systemctl restart nginx
}

main() {
    case "${1:-}" in
    -h | --help)
        usage
        return 0
        ;;
    https://*) ;;
    *)
        usage >&2
        return 2
        ;;
    esac
    [ "$(id -u)" -eq 0 ] || die "run as root"
    [ -r "$STACK_ENV" ] || die "$STACK_ENV is missing (written by the stack's user data)"
    # shellcheck source=/dev/null # written by the template's user data
    . "$STACK_ENV"
    # a global: the EXIT trap runs after main has returned, when a local
    # would be gone (and set -u would fail the whole run on it)
    WORK_DIR=$(mktemp -d)
    trap 'rm -rf "$WORK_DIR"' EXIT
    cd "$WORK_DIR"
    fetch_packages "${1%/}"
    install_prices "${1%/}"
    install_packages
    if [ -e "$DONE" ]; then
        say "upgrade: packages replaced, restarting the workers and nginx"
        upgrade_restart
    else
        say "first setup"
        first_setup
    fi
    say "done: https://$ES_DOMAIN/"
}

main "$@"
