/*
 * ngx_http_echostream_probes.c - the cheap probes for orchestrators and
 * load balancers: /livez ("echostream_livez") and /readyz
 * ("echostream_readyz").
 *
 *   /livez   200 {"status":"alive"} whenever a worker can answer at all;
 *            it never touches Redis, so a Redis outage does not make a
 *            supervisor restart a healthy nginx.
 *   /readyz  200 {"status":"ready"} when this worker's Redis connection
 *            is up, every function library of the module is loaded on it
 *            and a PING through it answers; otherwise 503
 *            {"status":"unready","reason":"…"} with one short reason.
 *
 * Both bodies are fixed strings: no detail (hosts, pids, errors) leaks to
 * whoever can reach a load balancer's probe path; /healthz keeps that, for
 * operators. The PING goes through the module's asynchronous connection,
 * like every other command, so a slow Redis holds the probe, never the
 * worker; a connection known to be down answers 503 at once.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_module.h"
#include "redis/ngx_http_echostream_redis.h"

static ngx_int_t ngx_http_echostream_probe_start(ngx_http_request_t *r);
static void
ngx_http_echostream_readyz_done(ngx_http_request_t *r, void *data,
                                ngx_http_echostream_redis_result_t *res);
static ngx_int_t ngx_http_echostream_probe_send(ngx_http_request_t *r,
                                                ngx_uint_t status,
                                                const char *state,
                                                const char *reason);

char *ngx_http_echostream_conf_livez(ngx_conf_t *cf, ngx_command_t *cmd,
                                     void *conf)
{
    ngx_http_core_loc_conf_t *clcf;

    /* no Redis: the answer must not depend on it */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_echostream_livez_handler;

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_readyz(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf)
{
    ngx_http_core_loc_conf_t *clcf;
    ngx_http_echostream_main_conf_t *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_echostream_readyz_handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_echostream_module);
    emcf->used = 1;

    return NGX_CONF_OK;
}

ngx_int_t ngx_http_echostream_livez_handler(ngx_http_request_t *r)
{
    ngx_int_t rc;

    rc = ngx_http_echostream_probe_start(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_echostream_probe_send(r, NGX_HTTP_OK, "alive", NULL);
}

ngx_int_t ngx_http_echostream_readyz_handler(ngx_http_request_t *r)
{
    static const char *ping[] = {"PING"};

    const char *why;
    ngx_int_t rc;

    rc = ngx_http_echostream_probe_start(r);
    if (rc != NGX_OK) {
        return rc;
    }

    why = ngx_http_echostream_redis_unready();
    if (why != NULL) {
        return ngx_http_echostream_probe_send(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                              "unready", why);
    }

    rc = ngx_http_echostream_redis_command(r, ngx_http_echostream_readyz_done,
                                           NULL, 1, ping, NULL);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* notice a client that gives up while Redis is slow */
    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return NGX_DONE;
}

/* GET and HEAD only; the body, if any, is discarded. */
static ngx_int_t ngx_http_echostream_probe_start(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}

static void
ngx_http_echostream_readyz_done(ngx_http_request_t *r, void *data,
                                ngx_http_echostream_redis_result_t *res)
{
    const char *why;
    ngx_int_t rc;

    if (res->replies == NULL || res->replies[0]->type != REDIS_REPLY_STATUS) {
        /* the reason stays fixed; the error log has the detail */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream readyz: PING failed: %s",
                      res->replies == NULL
                          ? (res->error != NULL ? res->error : "no reply")
                          : "error or odd reply");
        why = "redis not answering";

    } else {
        /* the connection may have dropped while the PING was out */
        why = ngx_http_echostream_redis_unready();
    }

    if (why == NULL) {
        rc = ngx_http_echostream_probe_send(r, NGX_HTTP_OK, "ready", NULL);
    } else {
        rc = ngx_http_echostream_probe_send(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unready", why);
    }
    ngx_http_finalize_request(r, rc);
}

/* Sends {"status":state} or, with a reason, {"status":state,"reason":…}. */
static ngx_int_t ngx_http_echostream_probe_send(ngx_http_request_t *r,
                                                ngx_uint_t status,
                                                const char *state,
                                                const char *reason)
{
    json_t *body;
    ngx_int_t rc;

    body = reason != NULL
               ? json_pack("{s:s, s:s}", "status", state, "reason", reason)
               : json_pack("{s:s}", "status", state);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = ngx_http_echostream_health_send(r, status, body);
    json_decref(body);
    return rc;
}
