/*
 * ngx_http_echostream_redis_target.c - where the per-worker Redis
 * connection goes next, found anew on every (re)connect inside nginx's
 * event loop.
 *
 * A host name is looked up through nginx's "resolver" (the one set at the
 * http level) on each attempt, so a DNS change such as an ElastiCache
 * failover is followed without a reload. Without a resolver the address the
 * name had when the configuration was read is used, as nginx does for
 * proxy_pass: a lookup with the C library would block the worker.
 *
 * With a redis+sentinel:// address the sentinels are asked in turn,
 * each over a short-lived hiredis connection of its own with a time limit,
 * for the primary's address (SENTINEL get-master-addr-by-name); the main
 * connection then checks ROLE (ngx_http_echostream_redis_conn.c). A
 * sentinel's context is freed before the next step starts: the step is
 * posted as an event, so no hiredis context is opened from inside another
 * one's callbacks.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_redis_role.h"
#include "redis/ngx_http_echostream_redis_conn.h"

/* what a lookup in flight is for */
#define NGX_HTTP_ECHOSTREAM_STEP_TARGET   0
#define NGX_HTTP_ECHOSTREAM_STEP_SENTINEL 1

static void ngx_http_echostream_redis_resolve(const char *name,
                                              const char *fallback,
                                              ngx_uint_t step);
static void ngx_http_echostream_redis_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_echostream_redis_step(ngx_uint_t step);
static void ngx_http_echostream_sentinel_ask(void);
static void ngx_http_echostream_sentinel_open(void);
static void ngx_http_echostream_sentinel_next(ngx_event_t *ev);
static void ngx_http_echostream_sentinel_timeout(ngx_event_t *ev);
static void ngx_http_echostream_sentinel_read(ngx_event_t *ev);
static void ngx_http_echostream_sentinel_write(ngx_event_t *ev);
static void ngx_http_echostream_sentinel_cleanup(void *privdata);
static void ngx_http_echostream_sentinel_on_connect(const redisAsyncContext *ac,
                                                    int status);
static void ngx_http_echostream_sentinel_reply(redisAsyncContext *ac,
                                               void *reply, void *privdata);

void ngx_http_echostream_redis_target_init(ngx_cycle_t *cycle)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_conf_ctx_t *hc;
    ngx_http_core_loc_conf_t *clcf;
    ngx_resolver_t *r;

    hc = (ngx_http_conf_ctx_t *)ngx_get_conf(cycle->conf_ctx, ngx_http_module);
    clcf = hc->loc_conf[ngx_http_core_module.ctx_index];

    /* only a "resolver" at the http level counts: the connection belongs
     * to no server; one without name servers is nginx's empty default */
    r = clcf->resolver;
    if (r != NULL && r != NGX_CONF_UNSET_PTR && r->connections.nelts > 0) {
        m->resolver = r;
        m->resolver_timeout = clcf->resolver_timeout;
    }

    m->sentinel_to.handler = ngx_http_echostream_sentinel_timeout;
    m->sentinel_to.log = cycle->log;
    m->sentinel_to.data = m;
    m->sentinel_to.cancelable = 1;

    m->sentinel_next.handler = ngx_http_echostream_sentinel_next;
    m->sentinel_next.log = cycle->log;
    m->sentinel_next.data = m;
}

void ngx_http_echostream_redis_target_stop(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (m->resolving != NULL) {
        ngx_resolve_name_done(m->resolving);
        m->resolving = NULL;
    }

    if (m->sentinel_to.timer_set) {
        ngx_del_timer(&m->sentinel_to);
    }

    if (m->sac != NULL) {
        redisAsyncFree(m->sac);
    }

    if (m->sentinel_next.posted) {
        ngx_delete_posted_event(&m->sentinel_next);
    }
}

void ngx_http_echostream_redis_find_target(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (m->url->nsentinels > 0) {
        m->sentinel = 0;
        m->sentinel_err[0] = '\0';
        ngx_http_echostream_sentinel_ask();
        return;
    }

    m->port = m->url->port;
    ngx_http_echostream_redis_resolve(m->url->host, m->conf_addr[0].text,
                                      NGX_HTTP_ECHOSTREAM_STEP_TARGET);
}

static int ngx_http_echostream_is_numeric(const char *name)
{
    struct in_addr a4;
    struct in6_addr a6;

    return inet_pton(AF_INET, name, &a4) == 1 ||
           inet_pton(AF_INET6, name, &a6) == 1;
}

/*
 * Puts name's address into m->addr, then goes on with step: at once for an
 * address or without a resolver (fallback, the address at configuration
 * time, or "" when there is none), else when the resolver answers.
 */
static void ngx_http_echostream_redis_resolve(const char *name,
                                              const char *fallback,
                                              ngx_uint_t step)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_resolver_ctx_t *ctx;

    if (ngx_http_echostream_is_numeric(name)) {
        ngx_cpystrn((u_char *)m->addr, (u_char *)name, sizeof(m->addr));
        ngx_http_echostream_redis_step(step);
        return;
    }

    ctx = NGX_NO_RESOLVER;
    if (m->resolver != NULL) {
        ctx = ngx_resolve_start(m->resolver, NULL);
        if (ctx == NULL) {
            ngx_http_echostream_redis_fail("resolving failed", "no memory");
            return;
        }
    }

    if (ctx == NGX_NO_RESOLVER) {
        if (fallback[0] == '\0') {
            ngx_http_echostream_redis_fail(
                "cannot connect", "a host name from a sentinel needs a "
                                  "\"resolver\" at the http level");
            return;
        }
        ngx_cpystrn((u_char *)m->addr, (u_char *)fallback, sizeof(m->addr));
        ngx_http_echostream_redis_step(step);
        return;
    }

    ngx_cpystrn((u_char *)m->name, (u_char *)name, sizeof(m->name));
    ctx->name.data = (u_char *)m->name;
    ctx->name.len = ngx_strlen(m->name);
    ctx->handler = ngx_http_echostream_redis_resolved;
    ctx->data = m;
    ctx->timeout = m->resolver_timeout;
    ctx->cancelable = 1;

    /* set first: a cached answer calls the handler inside ngx_resolve_name */
    m->resolving = ctx;
    m->step = step;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* the resolver freed ctx */
        m->resolving = NULL;
        ngx_http_echostream_redis_fail("resolving failed", m->name);
    }
}

static void ngx_http_echostream_redis_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_echostream_redis_mgr_t *m = ctx->data;
    char why[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
    u_char *p;
    size_t len;

    m->resolving = NULL;

    if (ctx->state != NGX_OK || ctx->naddrs == 0) {
        p = ngx_snprintf((u_char *)why, sizeof(why) - 1, "%s: %s", m->name,
                         ctx->state != NGX_OK
                             ? ngx_resolver_strerror(ctx->state)
                             : "no address");
        *p = '\0';
        ngx_resolve_name_done(ctx);
        ngx_http_echostream_redis_fail("resolving failed", why);
        return;
    }

    len = ngx_sock_ntop(ctx->addrs[0].sockaddr, ctx->addrs[0].socklen,
                        (u_char *)m->addr, sizeof(m->addr) - 1, 0);
    m->addr[len] = '\0';
    ngx_resolve_name_done(ctx);

    ngx_log_error(NGX_LOG_INFO, m->log, 0, "echostream redis: %s is %s",
                  m->name, m->addr);

    ngx_http_echostream_redis_step(m->step);
}

static void ngx_http_echostream_redis_step(ngx_uint_t step)
{
    if (step == NGX_HTTP_ECHOSTREAM_STEP_SENTINEL) {
        ngx_http_echostream_sentinel_open();
        return;
    }

    ngx_http_echostream_redis_open();
}

/* Asks sentinel m->sentinel, or fails when every one has been asked. */
static void ngx_http_echostream_sentinel_ask(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (m->sentinel >= m->url->nsentinels) {
        ngx_http_echostream_redis_fail("no sentinel named the primary",
                                       m->sentinel_err[0] ? m->sentinel_err
                                                          : NULL);
        return;
    }

    m->sentinel_answered = 0;
    ngx_http_echostream_redis_resolve(m->url->sentinel[m->sentinel].host,
                                      m->conf_addr[m->sentinel].text,
                                      NGX_HTTP_ECHOSTREAM_STEP_SENTINEL);
}

static void ngx_http_echostream_sentinel_record(const char *why)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    u_char *p;

    p = ngx_snprintf((u_char *)m->sentinel_err, sizeof(m->sentinel_err) - 1,
                     "sentinel %s:%d: %s", m->url->sentinel[m->sentinel].host,
                     m->url->sentinel[m->sentinel].port, why);
    *p = '\0';
    ngx_log_error(NGX_LOG_WARN, m->log, 0, "echostream redis: %s",
                  m->sentinel_err);
}

/* Opens the connection to the sentinel at m->addr and sends the question. */
static void ngx_http_echostream_sentinel_open(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    redisAsyncContext *ac;
    ngx_connection_t *c;

    ac = redisAsyncConnect(m->addr, m->url->sentinel[m->sentinel].port);
    if (ac == NULL || ac->err) {
        ngx_http_echostream_sentinel_record(ac ? ac->errstr : "no memory");
        if (ac != NULL) {
            redisAsyncFree(ac);
        }
        m->sentinel++;
        ngx_post_event(&m->sentinel_next, &ngx_posted_events);
        return;
    }

    c = ngx_http_echostream_redis_attach(ac, m->log, m,
                                         ngx_http_echostream_sentinel_read,
                                         ngx_http_echostream_sentinel_write,
                                         ngx_http_echostream_sentinel_cleanup);
    if (c == NULL) {
        ngx_http_echostream_sentinel_record("no free connections");
        redisAsyncFree(ac);
        m->sentinel++;
        ngx_post_event(&m->sentinel_next, &ngx_posted_events);
        return;
    }

    m->sac = ac;
    m->sconn = c;

    redisAsyncSetConnectCallback(ac, ngx_http_echostream_sentinel_on_connect);
    redisAsyncCommand(ac, ngx_http_echostream_sentinel_reply, NULL,
                      "SENTINEL get-master-addr-by-name %s", m->url->master);

    ngx_add_timer(&m->sentinel_to, NGX_HTTP_ECHOSTREAM_SENTINEL_LIMIT);
}

static void ngx_http_echostream_sentinel_on_connect(const redisAsyncContext *ac,
                                                    int status)
{
    if (status != REDIS_OK) {
        /* hiredis frees the context next; the cleanup hook moves on */
        ngx_http_echostream_sentinel_record(ac->errstr);
    }
}

static void ngx_http_echostream_sentinel_reply(redisAsyncContext *ac,
                                               void *reply, void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    char err[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
    es_redis_addr a;

    if (reply == NULL) {
        return; /* being freed: the cleanup hook moves on */
    }

    if (es_redis_sentinel_parse_addr(reply, &a, err, sizeof(err)) != 0) {
        ngx_http_echostream_sentinel_record(err);

    } else {
        if (ngx_strcmp(a.host, m->primary.host) != 0 ||
            a.port != m->primary.port) {
            ngx_log_error(NGX_LOG_NOTICE, m->log, 0,
                          "echostream redis: primary \"%s\" is %s:%d "
                          "(sentinel %s:%d)",
                          m->url->master, a.host, a.port,
                          m->url->sentinel[m->sentinel].host,
                          m->url->sentinel[m->sentinel].port);
        }
        m->primary = a;
        m->sentinel_answered = 1;
    }

    /* done with this sentinel either way; hiredis frees it after we return */
    redisAsyncFree(ac);
}

static void ngx_http_echostream_sentinel_timeout(ngx_event_t *ev)
{
    ngx_http_echostream_redis_mgr_t *m = ev->data;

    if (m->sac != NULL) {
        ngx_http_echostream_sentinel_record("no answer in time");
        redisAsyncFree(m->sac);
    }
}

/* Called by hiredis as it closes the sentinel's fd. */
static void ngx_http_echostream_sentinel_cleanup(void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    ngx_http_echostream_redis_release_conn(privdata);

    if (m->sentinel_to.timer_set) {
        ngx_del_timer(&m->sentinel_to);
    }

    m->sac = NULL;
    m->sconn = NULL;

    if (m->exiting) {
        return;
    }

    if (!m->sentinel_answered) {
        m->sentinel++;
    }

    ngx_post_event(&m->sentinel_next, &ngx_posted_events);
}

/* After a sentinel's context is gone: connect, or ask the next one. */
static void ngx_http_echostream_sentinel_next(ngx_event_t *ev)
{
    ngx_http_echostream_redis_mgr_t *m = ev->data;

    if (m->exiting || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!m->sentinel_answered) {
        ngx_http_echostream_sentinel_ask();
        return;
    }

    m->sentinel_answered = 0;
    m->port = m->primary.port;
    ngx_http_echostream_redis_resolve(m->primary.host, "",
                                      NGX_HTTP_ECHOSTREAM_STEP_TARGET);
}

static void ngx_http_echostream_sentinel_read(ngx_event_t *ev)
{
    ngx_connection_t *c = ev->data;
    ngx_http_echostream_redis_mgr_t *m = c->data;

    if (m->sac != NULL) {
        redisAsyncHandleRead(m->sac);
    }
}

static void ngx_http_echostream_sentinel_write(ngx_event_t *ev)
{
    ngx_connection_t *c = ev->data;
    ngx_http_echostream_redis_mgr_t *m = c->data;

    if (m->sac != NULL) {
        redisAsyncHandleWrite(m->sac);
    }
}
