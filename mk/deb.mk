# mk/deb.mk - `make deb`, included by the top Makefile: the Debian packages
# libnginx-mod-http-echostream and echostream, built with debhelper from
# debian/ (debian/rules says how; docs/install.md what each holds).
#
#   make deb    installs what the build needs (deploy/local/install-deps.sh;
#               ECHOSTREAM_SKIP_DEPS=1 skips it, as make test's suites do),
#               then writes build/deb/*.deb, with their .buildinfo and
#               .changes
#
# dpkg-buildpackage builds binary packages only (-b), unsigned, and cleans
# debian/ after itself (--post-clean), so the checkout is as it was; the
# objects it compiled stay under build/pkg/ for the next build. It gets an
# environment of its own: the outer make's MAKEFLAGS would otherwise leak
# this make's jobserver and command-line variables into debian/rules.
# SOURCE_DATE_EPOCH comes from debian/changelog (dpkg-buildpackage sets it),
# so the build date the programs report is the release's, not the day of
# the build (mk/build-info.sh).

DEB_OUT  := build/deb
DEB_ARCH  = $(shell dpkg --print-architecture)
DEB_BASE  = $(DEB_OUT)/echostream_$(ES_VERSION)_$(DEB_ARCH)

.PHONY: deb
deb:
	@[ -n "$$ECHOSTREAM_SKIP_DEPS" ] || deploy/local/install-deps.sh
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_OUT)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    dpkg-buildpackage -b --no-sign --post-clean -J$$(nproc) \
	    --buildinfo-file=$(DEB_BASE).buildinfo \
	    --changes-file=$(DEB_BASE).changes \
	    --buildinfo-option=-u$(DEB_OUT) --changes-option=-u$(DEB_OUT)
	@ls -l $(DEB_OUT)/*.deb
