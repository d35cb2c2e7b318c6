#!/bin/sh
# mk/build-info.sh VERSION OUT - writes OUT, the C header naming what was
# built: the version, the git revision and the build date, for the workers'
# --version and the module's echostream_build_info metric.
#
# Run by make on every invocation; OUT is rewritten only when the version
# or the revision changed, so an unchanged tree rebuilds nothing and the
# date is when this revision was first built here. SOURCE_DATE_EPOCH (as
# Debian's package builds set it, from debian/changelog) fixes the date for
# reproducible builds, and rewrites OUT when it holds another date.
# Outside a git checkout (a source package) the revision is ES_GIT_REV from
# the environment, or "unknown".
set -eu
version=$1
out=$2
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "${ES_GIT_REV:-unknown}")
# a fixed date must be the one written, whatever an earlier build wrote
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
    same_date=$(grep -cs "^#define ES_BUILD_DATE \"$date\"\$" "$out" || true)
else
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    same_date=1
fi
if grep -qs "^#define ES_VERSION \"$version\"\$" "$out" &&
    grep -qs "^#define ES_GIT_REV \"$rev\"\$" "$out" &&
    [ "$same_date" = 1 ]; then
    exit 0
fi
mkdir -p "$(dirname "$out")"
cat >"$out.tmp" <<EOT
/* es_build_info.h - written by mk/build-info.sh: what this build is. */
#ifndef ES_BUILD_INFO_H
#define ES_BUILD_INFO_H
#define ES_VERSION "$version"
#define ES_GIT_REV "$rev"
#define ES_BUILD_DATE "$date"
#endif
EOT
mv "$out.tmp" "$out"
