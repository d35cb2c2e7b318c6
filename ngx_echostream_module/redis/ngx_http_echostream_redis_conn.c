/*
 * ngx_http_echostream_redis_conn.c - the per-worker Redis connection:
 * hiredis's async API inside nginx's event loop, opened in init_process and
 * reopened with back-off (100 ms doubling to 5 s) whenever it drops.
 *
 * The adapter: hiredis owns the socket (it opened it and closes it in
 * redisFree); nginx gets a connection object for the same fd so its event
 * module can watch it. The hiredis event hooks add and delete nginx events
 * (ngx_http_echostream_redis_events.c); the cleanup hook returns the nginx
 * connection with c->fd = -1, so exactly one side closes the fd.
 *
 * Each attempt first finds where to go (ngx_http_echostream_redis_target.c:
 * the host looked up again through nginx's "resolver", or the primary a
 * sentinel names), then connects hiredis to a numeric address, so nothing
 * blocks. A URL's user, password and database are sent (AUTH, SELECT)
 * ahead of any other command on each new connection; the password is never
 * logged. Behind a sentinel, ROLE follows: a node that is not the primary
 * is dropped and the sentinels asked again. The module's Redis function
 * libraries (ngx_http_echostream_functions.h)
 * follow, so a Redis that restarted empty has them again before the first
 * request's command runs; one that holds an older version gets this
 * module's, one that holds a newer version keeps it (es_lua.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "redis/ngx_http_echostream_redis.h"
#include "redis/ngx_http_echostream_functions.h"
#include "redis/ngx_http_echostream_redis_conn.h"
#include "es_redis_role.h"

static void ngx_http_echostream_redis_connect(void);
static void ngx_http_echostream_redis_schedule(void);
static void ngx_http_echostream_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_echostream_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_echostream_redis_read_handler(ngx_event_t *ev);
static void ngx_http_echostream_redis_write_handler(ngx_event_t *ev);
static void ngx_http_echostream_redis_cleanup(void *privdata);
static void ngx_http_echostream_redis_on_connect(const redisAsyncContext *ac,
                                                 int status);
static void ngx_http_echostream_redis_role_reply(redisAsyncContext *ac,
                                                 void *reply, void *privdata);
static void ngx_http_echostream_redis_setup_reply(redisAsyncContext *ac,
                                                  void *reply, void *privdata);
static void ngx_http_echostream_redis_lib_added(redisAsyncContext *ac,
                                                void *reply, void *privdata);
static void ngx_http_echostream_redis_lib_version(redisAsyncContext *ac,
                                                  void *reply, void *privdata);
static void ngx_http_echostream_redis_lib_replaced(redisAsyncContext *ac,
                                                   void *reply, void *privdata);

ngx_http_echostream_redis_mgr_t ngx_http_echostream_redis_mgr;

ngx_int_t
ngx_http_echostream_redis_init_process(ngx_cycle_t *cycle, es_redis_url *url,
                                       ngx_http_echostream_redis_addr_t *addr)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    ngx_memzero(m, sizeof(*m));
    m->url = url;
    m->conf_addr = addr;
    m->log = cycle->log;
    m->backoff = NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MIN;
    m->started = 1;
    ngx_cpystrn((u_char *)m->error, (u_char *)"connecting", sizeof(m->error));

    /* back-off and connect timers must not hold up a graceful shutdown */
    m->reconnect.handler = ngx_http_echostream_redis_reconnect_handler;
    m->reconnect.log = cycle->log;
    m->reconnect.data = m;
    m->reconnect.cancelable = 1;

    m->connect_to.handler = ngx_http_echostream_redis_connect_timeout;
    m->connect_to.log = cycle->log;
    m->connect_to.data = m;
    m->connect_to.cancelable = 1;

    ngx_http_echostream_redis_target_init(cycle);

    ngx_http_echostream_redis_connect();

    return NGX_OK;
}

void ngx_http_echostream_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (!m->started) {
        return;
    }

    /* requests are being torn down with the process: call no handler */
    m->exiting = 1;

    if (m->reconnect.timer_set) {
        ngx_del_timer(&m->reconnect);
    }

    ngx_http_echostream_redis_target_stop();

    if (m->ac != NULL) {
        ngx_http_echostream_redis_drop(NULL);
    }
}

static void ngx_http_echostream_redis_set_error(const char *what,
                                                const char *detail)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    u_char *p;

    p = ngx_snprintf((u_char *)m->error, sizeof(m->error) - 1, "%s%s%s", what,
                     detail ? ": " : "", detail ? detail : "");
    *p = '\0';
}

/* Writes why hiredis lost the connection into buf (NUL-terminated). */
void ngx_http_echostream_redis_lost(char *buf, size_t size,
                                    const redisAsyncContext *ac)
{
    u_char *p;

    p = ngx_snprintf((u_char *)buf, size - 1, "connection lost: %s",
                     ac->err ? ac->errstr : "closed by redis");
    *p = '\0';
}

static void ngx_http_echostream_redis_connect(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    m->generation++;
    m->connected = 0;
    m->libs_ready = 0;
    m->role_ok = 0;

    if (m->url->is_unix) {
        ngx_http_echostream_redis_open();
        return;
    }

    ngx_http_echostream_redis_find_target();
}

/* A step before connecting failed: report it and try again later. */
void ngx_http_echostream_redis_fail(const char *what, const char *detail)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    ngx_log_error(NGX_LOG_ERR, m->log, 0, "echostream redis: %s%s%s", what,
                  detail ? ": " : "", detail ? detail : "");
    ngx_http_echostream_redis_set_error(what, detail);
    ngx_http_echostream_redis_schedule();
}

/* Connects to m->addr:m->port (numeric, so hiredis never blocks on DNS). */
void ngx_http_echostream_redis_open(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    redisAsyncContext *ac;
    const es_lua_lib *const *lib;
    ngx_connection_t *c;

    if (m->url->is_unix) {
        ac = redisAsyncConnectUnix(m->url->path);

    } else {
        ac = redisAsyncConnect(m->addr, m->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream redis: out of memory while connecting");
        ngx_http_echostream_redis_set_error("connect failed", "no memory");
        ngx_http_echostream_redis_schedule();
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream redis: connect failed: %s", ac->errstr);
        ngx_http_echostream_redis_set_error("connect failed", ac->errstr);
        redisAsyncFree(ac);
        ngx_http_echostream_redis_schedule();
        return;
    }

    c = ngx_http_echostream_redis_attach(
        ac, m->log, m, ngx_http_echostream_redis_read_handler,
        ngx_http_echostream_redis_write_handler,
        ngx_http_echostream_redis_cleanup);
    if (c == NULL) {
        ngx_http_echostream_redis_set_error("connect failed",
                                            "no free connections");
        redisAsyncFree(ac);
        ngx_http_echostream_redis_schedule();
        return;
    }

    m->ac = ac;
    m->conn = c;

    if (!m->url->is_unix) {
        (void)redisEnableKeepAlive(&ac->c);
    }

    /* hooks first: setting the connect callback arms the write event */
    redisAsyncSetConnectCallback(ac, ngx_http_echostream_redis_on_connect);

    /* AUTH and SELECT go first in the output buffer, ahead of any command */
    if (m->url->user[0] != '\0') {
        /* an ACL user (its password may be empty: a nopass user) */
        redisAsyncCommand(ac, ngx_http_echostream_redis_setup_reply, NULL,
                          "AUTH %s %s", m->url->user, m->url->password);
    } else if (m->url->password[0] != '\0') {
        redisAsyncCommand(ac, ngx_http_echostream_redis_setup_reply, NULL,
                          "AUTH %s", m->url->password);
    }

    if (m->url->db != 0) {
        redisAsyncCommand(ac, ngx_http_echostream_redis_setup_reply, NULL,
                          "SELECT %d", m->url->db);
    }

    /* behind a sentinel: the node it named may have been demoted since */
    if (m->url->nsentinels > 0) {
        redisAsyncCommand(ac, ngx_http_echostream_redis_role_reply, NULL,
                          "ROLE");
    }

    /*
     * The module's functions, before any request can call them: a library
     * Redis lacks is added at once (FUNCTION LOAD without REPLACE fails
     * harmlessly when it is there); then its version decides whether the
     * one in Redis is replaced (older), kept (the same) or kept and
     * reported (newer: never downgraded by an older module).
     */
    for (lib = ngx_http_echostream_function_libs; *lib != NULL; lib++) {
        redisAsyncCommand(ac, ngx_http_echostream_redis_lib_added, (void *)*lib,
                          "FUNCTION LOAD %b", (*lib)->code, (*lib)->len);
        redisAsyncCommand(ac, ngx_http_echostream_redis_lib_version,
                          (void *)*lib, "FCALL_RO %s 0", (*lib)->version_fn);
    }

    ngx_add_timer(&m->connect_to, NGX_HTTP_ECHOSTREAM_REDIS_CONNECT_LIMIT);
}

static void ngx_http_echostream_redis_schedule(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (m->exiting || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!m->reconnect.timer_set) {
        ngx_add_timer(&m->reconnect, m->backoff);
    }

    m->backoff *= 2;
    if (m->backoff > NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MAX) {
        m->backoff = NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MAX;
    }
}

/*
 * Frees the hiredis context now: every pending command is called back with
 * NULL, then the cleanup hook releases the nginx connection and schedules
 * the reconnect. why (may be NULL) becomes the reported error.
 */
void ngx_http_echostream_redis_drop(const char *why)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    redisAsyncContext *ac = m->ac;

    if (ac == NULL || m->closing) {
        return;
    }

    if (why != NULL) {
        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "echostream redis: closing connection: %s", why);
        ngx_http_echostream_redis_set_error(why, NULL);
    }

    m->closing = 1;
    redisAsyncFree(ac);
}

static void ngx_http_echostream_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_echostream_redis_mgr_t *m = ev->data;

    if (m->exiting || ngx_exiting || ngx_terminate || ngx_quit ||
        m->ac != NULL || m->resolving != NULL || m->sac != NULL ||
        m->sentinel_next.posted) {
        return;
    }

    ngx_http_echostream_redis_connect();
}

static void ngx_http_echostream_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_echostream_redis_mgr_t *m = ev->data;

    if (m->ac != NULL && !m->connected) {
        ngx_http_echostream_redis_drop("connect timed out");
    }
}

static void ngx_http_echostream_redis_on_connect(const redisAsyncContext *ac,
                                                 int status)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;

    if (m->connect_to.timer_set) {
        ngx_del_timer(&m->connect_to);
    }

    if (status != REDIS_OK) {
        /* hiredis frees the context next; the cleanup hook reschedules */
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream redis: connect failed: %s", ac->errstr);
        ngx_http_echostream_redis_set_error("connect failed", ac->errstr);
        return;
    }

    m->connected = 1;
    ngx_log_error(NGX_LOG_INFO, m->log, 0, "echostream redis: connected");
}

/* The reply to ROLE, behind a sentinel: only a primary is kept. */
static void ngx_http_echostream_redis_role_reply(redisAsyncContext *ac,
                                                 void *reply, void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    char err[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];

    if (reply == NULL || m->closing) {
        return;
    }

    if (es_redis_role_is_primary(reply, err, sizeof(err)) == 0) {
        m->role_ok = 1;
        return;
    }

    ngx_log_error(NGX_LOG_WARN, m->log, 0,
                  "echostream redis: %s:%d is not usable: %s", m->addr, m->port,
                  err);
    ngx_http_echostream_redis_set_error("not the primary", err);

    /* hiredis defers the free until this callback returns */
    m->closing = 1;
    redisAsyncFree(ac);
}

/* The reply to FUNCTION LOAD without REPLACE. */
static void ngx_http_echostream_redis_lib_added(redisAsyncContext *ac,
                                                void *reply, void *privdata)
{
    redisReply *rr = reply;

    /* present already: its version is asked next */
    if (rr != NULL && rr->type == REDIS_REPLY_ERROR &&
        ngx_strstr(rr->str, "already exists") != NULL) {
        return;
    }

    ngx_http_echostream_redis_setup_reply(ac, reply, privdata);
}

/* The reply to FCALL_RO <library>_version: replace, keep or report. */
static void ngx_http_echostream_redis_lib_version(redisAsyncContext *ac,
                                                  void *reply, void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    const es_lua_lib *lib = privdata;
    redisReply *rr = reply;
    long have;

    if (rr == NULL || m->closing) {
        return; /* the connection went: the next one asks again */
    }

    /* an error (no such function: a library from before versions) or an
     * odd answer counts as version 0 */
    have = rr->type == REDIS_REPLY_INTEGER && rr->integer > 0 &&
                   rr->integer < 1000000
               ? (long)rr->integer
               : 0;

    switch (es_lua_plan_for(have, lib)) {
    case ES_LUA_LOAD:
        ngx_log_error(NGX_LOG_NOTICE, m->log, 0,
                      "echostream redis: loading function library \"%s\" "
                      "version %l (Redis held version %l)",
                      lib->name, lib->version, have);
        redisAsyncCommand(ac, ngx_http_echostream_redis_lib_replaced, NULL,
                          "FUNCTION LOAD REPLACE %b", lib->code, lib->len);
        break;
    case ES_LUA_NEWER:
        m->libs_ready++;
        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "echostream redis: Redis holds function library "
                      "\"%s\" version %l, newer than this module's version "
                      "%l: kept, not downgraded; upgrade this module",
                      lib->name, have, lib->version);
        break;
    case ES_LUA_SAME:
        m->libs_ready++;
        break;
    }
}

/* The reply to FUNCTION LOAD REPLACE: one more library ready, or refused. */
static void ngx_http_echostream_redis_lib_replaced(redisAsyncContext *ac,
                                                   void *reply, void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    redisReply *rr = reply;

    if (rr != NULL && rr->type != REDIS_REPLY_ERROR && !m->closing) {
        m->libs_ready++;
        return;
    }

    ngx_http_echostream_redis_setup_reply(ac, reply, privdata);
}

const char *ngx_http_echostream_redis_unready(void)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    const es_lua_lib *const *lib;
    ngx_uint_t n;

    if (m->ac == NULL || !m->connected || m->closing) {
        return "redis not connected";
    }

    if (m->url->nsentinels > 0 && !m->role_ok) {
        return "redis primary not confirmed";
    }

    n = 0;
    for (lib = ngx_http_echostream_function_libs; *lib != NULL; lib++) {
        n++;
    }

    /* the version checks answer in order after connecting: until the last
     * one has, a request could call a function Redis lacks */
    if (m->libs_ready < n) {
        return "redis functions not loaded";
    }

    return NULL;
}

static void ngx_http_echostream_redis_setup_reply(redisAsyncContext *ac,
                                                  void *reply, void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    redisReply *rr = reply;

    if (rr == NULL || rr->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* the password itself is never logged, only what Redis answered */
    ngx_log_error(NGX_LOG_ERR, m->log, 0,
                  "echostream redis: connection setup refused: %s", rr->str);
    ngx_http_echostream_redis_set_error("setup refused", rr->str);

    /* hiredis defers the free until this callback returns */
    if (!m->closing) {
        m->closing = 1;
        redisAsyncFree(ac);
    }
}

/*
 * Called by hiredis just before it closes the fd: forget the events (the
 * kernel drops them with the fd), give the connection back without closing
 * the fd, and plan the next connection attempt.
 */
static void ngx_http_echostream_redis_cleanup(void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_connection_t *c = privdata;
    redisAsyncContext *ac = m->ac;

    if (ac != NULL && !m->closing && m->connected) {
        /* hiredis gave up on its own: EOF or a socket error (a failed
         * connect was reported by the connect callback) */
        ngx_http_echostream_redis_lost(m->error, sizeof(m->error), ac);
        ngx_log_error(NGX_LOG_WARN, m->log, 0, "echostream redis: %s",
                      m->error);
    }

    ngx_http_echostream_redis_release_conn(c);

    if (m->connect_to.timer_set) {
        ngx_del_timer(&m->connect_to);
    }

    m->ac = NULL;
    m->conn = NULL;
    m->connected = 0;
    m->closing = 0;

    ngx_http_echostream_redis_schedule();
}

static void ngx_http_echostream_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t *c = ev->data;
    ngx_http_echostream_redis_mgr_t *m = c->data;

    /* the context may be freed inside; touch nothing afterwards */
    if (m->ac != NULL) {
        redisAsyncHandleRead(m->ac);
    }
}

static void ngx_http_echostream_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t *c = ev->data;
    ngx_http_echostream_redis_mgr_t *m = c->data;

    if (m->ac != NULL) {
        redisAsyncHandleWrite(m->ac);
    }
}
