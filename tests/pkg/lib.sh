# shellcheck shell=bash
# tests/pkg/lib.sh - what the package checks share (sourced by
# install-check.sh and aws-instance-check.sh, never run): their report
# lines, and a bare Debian root made with debootstrap from the mirror this
# machine's apt uses, where no maintainer script may start a daemon.
#
# The sourcing script sets CHECK (its name in report lines), ROOTFS and
# SUITE first. One copy, so both checks make their roots the same way.

checks=0
say() { printf '\n== %s: %s\n' "$CHECK" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$CHECK" "$*"
    exit 1
}
ok() {
    checks=$((checks + 1))
    printf 'ok %d - %s\n' "$checks" "$*"
}

unmount_root() {
    local m
    for m in dev/pts dev proc sys; do
        if mountpoint -q "$ROOTFS/$m"; then umount -l "$ROOTFS/$m"; fi
    done
}

# no daemon starts from a maintainer script (a chroot has no init; nginx
# and Redis would take the host's ports)
deny_starts() { # root
    printf '#!/bin/sh\n# %s: no service starts here\nexit 101\n' "$CHECK" \
        >"$1/usr/sbin/policy-rc.d"
    chmod 755 "$1/usr/sbin/policy-rc.d"
}

# A fresh minbase root in ROOTFS (removed first, with any extra folders
# named), with this machine's apt sources and settings and name resolution.
fresh_root() { # include-list extra-folder...
    local include=$1 mirror log=/var/tmp/es-$CHECK-debootstrap.log f
    shift
    command -v debootstrap >/dev/null ||
        apt-get install -y -q --no-install-recommends debootstrap
    # the mirror this machine's apt uses (deb822 or one-line sources)
    mirror=$(sed -n 's/^URIs: *\([^ ]*debian\/*\)$/\1/p' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "'"$SUITE"'" { print $2; exit }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    unmount_root
    rm -rf --one-file-system "$ROOTFS" "$@"
    debootstrap --variant=minbase ${include:+--include="$include"} "$SUITE" \
        "$ROOTFS" "$mirror" >"$log" 2>&1 ||
        { tail -n 20 "$log"; fail "debootstrap"; }
    rm -f "$ROOTFS/etc/apt/sources.list"
    cp -a /etc/apt/sources.list* "$ROOTFS/etc/apt/" 2>/dev/null || true
    cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    for f in /etc/apt/apt.conf.d/*; do
        grep -qi 'acquire::' "$f" && cp -L "$f" "$ROOTFS$f"
    done
    deny_starts "$ROOTFS"
}
