#!/usr/bin/env bash
#
# install-check.sh - builds the Debian packages and installs them into a
# fresh Debian 12 root the way an operator would, then checks that every
# file lands where the units and nginx expect it, that `nginx -t` passes
# with the shipped module snippet and site example enabled, that
# `systemd-analyze verify` passes on the installed units, and that remove
# and purge take away what they should (docs/install.md, "Debian packages").
#
#   sudo bash tests/pkg/install-check.sh
#   /work/shared/tools/fresh-machine.sh REPO 'bash tests/pkg/install-check.sh'
#
# It changes the system it runs on (packages, a policy-rc.d, a root under
# /var/tmp), so it is meant for a throwaway machine or chroot such as
# fresh-machine.sh's, not for `make test` (which has an offline check of the
# packages' contents, tests/integration/ops/deb_packages.test.mjs). The
# machine that builds has every build dependency, nginx and Redis among
# them, so the packages are installed into a second root, debootstrapped
# here (minbase, as bare as a container image): there apt has to find
# nginx, Redis and the libraries through the packages' own Depends and
# Recommends. Nothing is started: a chroot has no init, and a policy-rc.d
# keeps the maintainer scripts from starting nginx or Redis on the host's
# ports. The last line is "install-check: N checks passed" or the failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly ROOTFS=${ES_PKG_ROOT:-/var/tmp/es-pkg-root}
readonly SUITE=bookworm
readonly WORKERS=(ingest enrich mirror summarize alert)
readonly CHECK=install-check
# shellcheck source=tests/pkg/lib.sh
. tests/pkg/lib.sh
# runs a command inside the install root
in_root() {
    chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

trap unmount_root EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs packages)"

deny_starts ""

say "make deb"
t0=$(date +%s)
make deb
say "make deb took $(($(date +%s) - t0)) s"
mapfile -t debs < <(ls build/deb/*.deb)
[ "${#debs[@]}" -eq 2 ] || fail "build/deb holds ${#debs[@]} packages, not 2"
ls -l build/deb/
for d in "${debs[@]}"; do
    dpkg-deb -f "$d" Package Version Installed-Size Depends Recommends
done
ok "make deb built ${debs[*]##*/}"

say "a fresh $SUITE root in $ROOTFS"
fresh_root ""
for m in proc sys dev dev/pts; do
    mount --bind "/$m" "$ROOTFS/$m"
    mount --make-private "$ROOTFS/$m"
done
mkdir -p "$ROOTFS/tmp/debs"
cp "${debs[@]}" "$ROOTFS/tmp/debs/"
in_root apt-get update -q >/dev/null
ok "fresh root: $(in_root dpkg-query -W -f '.\n' | wc -l) packages, no nginx, no redis"
in_root dpkg -s nginx >/dev/null 2>&1 && fail "the fresh root has nginx already"

say "apt-get install ./*.deb"
in_root sh -c 'cd /tmp/debs && apt-get install -y -q ./*.deb' | tail -n 15
for p in echostream libnginx-mod-http-echostream nginx redis-server systemd; do
    # shellcheck disable=SC2016 # the ${…} is dpkg-query's format, not the shell's
    [ "$(in_root dpkg-query -W -f '${db:Status-Status}' "$p")" = installed ] ||
        fail "$p is not installed"
done
ok "installed, with nginx, redis-server and systemd pulled in by the packages"

say "files where the units and nginx look"
for w in "${WORKERS[@]}" sentiment; do
    [ -x "$ROOTFS/usr/bin/echostream-$w" ] || fail "/usr/bin/echostream-$w"
done
for f in usr/share/echostream/vader_lexicon.txt usr/share/echostream/web/index.html \
    usr/lib/nginx/modules/ngx_http_echostream_module.so \
    usr/share/nginx/modules-available/mod-http-echostream.conf \
    etc/echostream/echostream.conf etc/echostream/nginx-site.conf.example \
    usr/lib/sysusers.d/echostream.conf lib/systemd/system/echostream.target; do
    [ -f "$ROOTFS/$f" ] || fail "/$f missing"
done
for w in "${WORKERS[@]}"; do
    [ -f "$ROOTFS/lib/systemd/system/echostream-$w.service" ] ||
        fail "echostream-$w.service missing"
done
ok "workers in /usr/bin, data in /usr/share/echostream, examples in /etc/echostream, units"
link=$(readlink "$ROOTFS/etc/nginx/modules-enabled/50-mod-http-echostream.conf") ||
    fail "no modules-enabled link"
[ "$link" = /usr/share/nginx/modules-available/mod-http-echostream.conf ] ||
    fail "modules-enabled link points at $link"
ok "module enabled: /etc/nginx/modules-enabled/50-mod-http-echostream.conf -> $link"
in_root getent passwd echostream | grep -q ':/var/lib/echostream:/usr/sbin/nologin$' ||
    fail "no echostream system user"
ok "system user: $(in_root getent passwd echostream)"
ls "$ROOTFS"/etc/systemd/system/*/echostream* >/dev/null 2>&1 &&
    fail "a unit was enabled"
ok "no unit enabled by the installation"
v=$(in_root echostream-ingest --version)
grep -q "^echostream-ingest $(dpkg-deb -f "${debs[0]}" Version)" <<<"$v" ||
    fail "--version: $v"
ok "--version: $v"
score=$(printf 'I love this, it is wonderful\n' | in_root echostream-sentiment)
grep -q '"compound":0\.[5-9]' <<<"$score" || fail "sentiment: $score"
ok "the installed sentiment tool finds the installed lexicon"

say "nginx -t with the module snippet and the site example enabled"
# the Cognito pool's host is resolved when nginx reads its configuration:
# without DNS an issuer on loopback stands in for it, as in the
# systemd_units suite; with DNS the example is taken as shipped
if in_root getent hosts cognito-idp.eu-west-1.amazonaws.com >/dev/null; then
    cp "$ROOTFS/etc/echostream/nginx-site.conf.example" \
        "$ROOTFS/etc/nginx/sites-available/echostream"
    site="the site example as shipped"
else
    sed 's|^echostream_cognito .*$|echostream_issuer http://127.0.0.1:9/pool;|' \
        "$ROOTFS/etc/echostream/nginx-site.conf.example" \
        >"$ROOTFS/etc/nginx/sites-available/echostream"
    site="the site example (no DNS here: a loopback issuer for the Cognito pool)"
fi
rm -f "$ROOTFS/etc/nginx/sites-enabled/default"
ln -s ../sites-available/echostream "$ROOTFS/etc/nginx/sites-enabled/echostream"
in_root nginx -t 2>&1 | tail -n 3
in_root nginx -t >/dev/null 2>&1 || fail "nginx -t"
ok "nginx -t passes with the module and $site"

say "systemd-analyze verify"
units=()
for w in "${WORKERS[@]}"; do units+=("/lib/systemd/system/echostream-$w.service"); done
units+=(/lib/systemd/system/echostream.target)
out=$(in_root systemd-analyze verify "${units[@]}" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
ok "systemd-analyze verify: nothing to say about ${#units[@]} units"

say "apt-get remove"
# the operator's files: what purge must take (docs/install.md)
printf 'ECHOSTREAM_REDIS=redis://es-ingest:x@127.0.0.1:6379/0\n' \
    >"$ROOTFS/etc/default/echostream-ingest"
printf '{}\n' >"$ROOTFS/etc/echostream/config.json"
# the site uses the module's directives: it goes before the module does
rm "$ROOTFS/etc/nginx/sites-enabled/echostream" \
    "$ROOTFS/etc/nginx/sites-available/echostream"
in_root apt-get remove -y -q echostream libnginx-mod-http-echostream | tail -n 3
for f in usr/bin/echostream-ingest usr/lib/nginx/modules/ngx_http_echostream_module.so \
    lib/systemd/system/echostream-ingest.service usr/share/echostream; do
    [ ! -e "$ROOTFS/$f" ] || fail "/$f left after remove"
done
[ -f "$ROOTFS/etc/echostream/echostream.conf" ] || fail "remove took a conffile"
[ ! -e "$ROOTFS/etc/nginx/modules-enabled/50-mod-http-echostream.conf" ] ||
    fail "module still enabled after remove"
in_root nginx -t >/dev/null 2>&1 || fail "nginx -t after remove"
ok "remove: programs, module, units gone; configuration kept; nginx -t passes"

say "apt-get purge"
in_root apt-get purge -y -q echostream libnginx-mod-http-echostream | tail -n 3
for p in echostream libnginx-mod-http-echostream; do
    # shellcheck disable=SC2016 # the ${…} is dpkg-query's format, not the shell's
    s=$(in_root dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [ -z "$s" ] || [ "$s" = "un " ] || fail "$p still known to dpkg: '$s'"
done
left=$(cd "$ROOTFS" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \
    -o -path ./tmp/debs \) -prune -o -name '*echostream*' -print | sort)
[ -z "$left" ] || fail "left after purge: $left"
in_root getent passwd echostream >/dev/null ||
    fail "the echostream user was removed (it is meant to stay)"
ok "purge: nothing named echostream left but the system user (kept, as Debian does)"

unmount_root
rm -rf --one-file-system "$ROOTFS"
printf 'install-check: %d checks passed\n' "$checks"
