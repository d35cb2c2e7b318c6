# mk/install.mk - `make install` and `make uninstall`, included by the top
# Makefile (docs/install.md describes the installed layout).
#
#   make install   [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=]
#                  [NGINX_MODULES_DIR=] [SYSTEMDUNITDIR=] [SYSUSERSDIR=]
#   make uninstall the same variables: removes what install put there
#
# Layout, PREFIX=/usr shown (Debian's own places):
#   /usr/bin/echostream-*                  every worker (and the sentiment
#                                          tool); bin, not sbin: they are
#                                          also run by hand (--help,
#                                          backfills, echostream-sentiment)
#   /usr/share/echostream/                 the VADER lexicon and its licence,
#                                          web/ (the dashboard), examples/
#   /usr/lib/nginx/modules/ngx_http_echostream_module.so
#   /usr/share/nginx/modules-available/mod-http-echostream.conf
#                                          the load_module line, which
#                                          Debian links from modules-enabled
#   /etc/echostream/                       echostream.conf (kept if present),
#                                          the examples it starts from
#   /usr/lib/systemd/system/echostream*.{service,target}
#   /usr/lib/sysusers.d/echostream.conf    the echostream user and group
#
# The workers find the lexicon at ../share/echostream/ from their own
# binary (es_vader_default_lexicon), so BINDIR and DATADIR follow PREFIX and
# are not separately overridable: the tree then works wherever it is put,
# a DESTDIR staging root included, with no path compiled in. The files
# written in the Debian layout (units, the nginx site, the default file)
# name /usr/bin, /usr/share/echostream and /etc/echostream; they are
# rewritten for another PREFIX or SYSCONFDIR as they are installed.
#
# Uninstall removes exactly the files install writes, and echostream.conf
# only while it is still the unchanged example (an edited one is the
# operator's and stays).

PREFIX            ?= /usr/local
DESTDIR           ?=
BINDIR            := $(PREFIX)/bin
DATADIR           := $(PREFIX)/share/echostream
ifeq ($(PREFIX),/usr)
SYSCONFDIR        ?= /etc
else
SYSCONFDIR        ?= $(PREFIX)/etc
endif
NGINX_MODULES_DIR ?= $(PREFIX)/lib/nginx/modules
NGINX_MODAVAIL_DIR ?= $(PREFIX)/share/nginx/modules-available
SYSTEMDUNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR       ?= $(PREFIX)/lib/sysusers.d
ES_CONFDIR        := $(SYSCONFDIR)/echostream

INSTALL           ?= install
UNITS             := $(wildcard deploy/systemd/echostream*.service) \
                     deploy/systemd/echostream.target
MODULE_SNIPPET    := mod-http-echostream.conf
# the configuration the units start with (lake.dir in the state directory)
ES_START_CONF     := deploy/systemd/echostream.conf
# examples installed beside echostream.conf: source -> installed name
ES_EXAMPLES       := conf/echostream.conf.example:echostream.conf.example \
                     deploy/systemd/echostream.default:default.example \
                     deploy/nginx/echostream-site.conf:nginx-site.conf.example \
                     deploy/redis/redis-production.conf.example:redis-production.conf.example \
                     deploy/redis/users.acl.example:users.acl.example \
                     deploy/nginx/redis-tls-tunnel.conf:redis-tls-tunnel.conf.example \
                     deploy/stunnel/redis-tls-stunnel.conf:redis-tls-stunnel.conf.example

# the Debian-layout paths of a shipped file, rewritten for this install
ES_REWRITE = sed -e 's|/usr/bin/|$(BINDIR)/|g' \
                 -e 's|/usr/share/echostream|$(DATADIR)|g' \
                 -e 's|/etc/echostream|$(ES_CONFDIR)|g'

.PHONY: install uninstall
install: workers module web
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/web \
	    $(DESTDIR)$(NGINX_MODULES_DIR) $(DESTDIR)$(NGINX_MODAVAIL_DIR) \
	    $(DESTDIR)$(ES_CONFDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	$(INSTALL) -m 755 $(WORKER_BINS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 lib/data/vader_lexicon.txt lib/data/LICENSE.vader \
	    $(DESTDIR)$(DATADIR)/
	rm -rf $(DESTDIR)$(DATADIR)/web
	cp -R web/dist $(DESTDIR)$(DATADIR)/web
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/web
	$(INSTALL) -m 644 $(MODULE_SO) $(DESTDIR)$(NGINX_MODULES_DIR)/
	printf 'load_module %s;\n' \
	    "$(if $(filter /usr/lib/nginx/modules,$(NGINX_MODULES_DIR)),modules,$(NGINX_MODULES_DIR))/ngx_http_echostream_module.so" \
	    >$(DESTDIR)$(NGINX_MODAVAIL_DIR)/$(MODULE_SNIPPET)
	chmod 644 $(DESTDIR)$(NGINX_MODAVAIL_DIR)/$(MODULE_SNIPPET)
	$(foreach e,$(ES_EXAMPLES),$(ES_REWRITE) $(word 1,$(subst :, ,$(e))) \
	    >$(DESTDIR)$(ES_CONFDIR)/$(word 2,$(subst :, ,$(e))) && \
	    chmod 644 $(DESTDIR)$(ES_CONFDIR)/$(word 2,$(subst :, ,$(e)));)
	test -e $(DESTDIR)$(ES_CONFDIR)/echostream.conf || \
	    $(INSTALL) -m 644 $(ES_START_CONF) \
	    $(DESTDIR)$(ES_CONFDIR)/echostream.conf
	$(foreach u,$(UNITS),$(ES_REWRITE) $(u) \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u)) && \
	    chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u));)
	$(INSTALL) -m 644 deploy/systemd/echostream.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/echostream.conf

uninstall:
	rm -f $(WORKER_BINS:$(BUILD)/bin/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(DESTDIR)$(DATADIR)/vader_lexicon.txt \
	    $(DESTDIR)$(DATADIR)/LICENSE.vader
	rm -rf $(DESTDIR)$(DATADIR)/web
	-rmdir $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(NGINX_MODULES_DIR)/ngx_http_echostream_module.so \
	    $(DESTDIR)$(NGINX_MODAVAIL_DIR)/$(MODULE_SNIPPET)
	if cmp -s $(ES_START_CONF) \
	    $(DESTDIR)$(ES_CONFDIR)/echostream.conf; then \
	    rm -f $(DESTDIR)$(ES_CONFDIR)/echostream.conf; fi
	rm -f $(foreach e,$(ES_EXAMPLES),$(DESTDIR)$(ES_CONFDIR)/$(word 2,$(subst :, ,$(e))))
	-rmdir $(DESTDIR)$(ES_CONFDIR)
	rm -f $(UNITS:deploy/systemd/%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) \
	    $(DESTDIR)$(SYSUSERSDIR)/echostream.conf
