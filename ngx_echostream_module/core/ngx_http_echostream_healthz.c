/*
 * ngx_http_echostream_healthz.c - the /healthz route ("echostream_healthz").
 *
 * One pipelined round trip (PING and HGETALL es:workers) tells whether
 * Redis answers, how fast, and which worker instances still beat:
 *
 *   {"status":"ok"|"degraded"|"down",
 *    "redis":{"state":"up"|"down","latency_ms":0.42,"error":"…"},
 *    "workers":{"ingest":{"alive":true,"instances":[{"instance":…,
 *               "host":…,"pid":…,"beat_age_ms":…,"alive":true,
 *               "status":{…}}]}, …}}
 *
 * 200 only for "ok" (Redis up, every expected worker has a live instance),
 * 503 otherwise, so a load balancer can use the status code alone. A
 * heartbeat that does not parse is skipped with a log line: one broken
 * writer must not hide the others, nor take the route down.
 *
 * The document names hosts and pids: only loopback clients or a request
 * with the configured token get it (ngx_http_echostream_healthz_access.c),
 * everyone else a bare 403, before anything is asked of Redis. A load
 * balancer uses /readyz instead (ngx_http_echostream_probes.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "es_keys.h"
#include "core/ngx_http_echostream_module.h"
#include "redis/ngx_http_echostream_redis.h"

static void
ngx_http_echostream_healthz_done(ngx_http_request_t *r, void *data,
                                 ngx_http_echostream_redis_result_t *res);
static json_t *ngx_http_echostream_healthz_worker(json_t *workers,
                                                  const char *name);
static void ngx_http_echostream_healthz_beat(ngx_http_request_t *r,
                                             json_t *workers, redisReply *field,
                                             redisReply *value,
                                             long long now_ms);
static void ngx_http_echostream_healthz_host(char *buf, size_t size,
                                             const char *host,
                                             const char *instance,
                                             long long pid);

ngx_int_t ngx_http_echostream_healthz_handler(ngx_http_request_t *r)
{
    static const char *ping[] = {"PING"};
    static const char *hgetall[] = {"HGETALL", ES_KEY_WORKERS};

    ngx_http_echostream_redis_cmd_t cmds[2];
    ngx_int_t rc;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (!ngx_http_echostream_healthz_allowed(r)) {
        return NGX_HTTP_FORBIDDEN;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cmds[0].argc = 1;
    cmds[0].argv = ping;
    cmds[0].argvlen = NULL;
    cmds[1].argc = 2;
    cmds[1].argv = hgetall;
    cmds[1].argvlen = NULL;

    rc = ngx_http_echostream_redis_pipeline(
        r, cmds, 2, ngx_http_echostream_healthz_done, NULL);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* notice a client that gives up while Redis is slow */
    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return NGX_DONE;
}

static void
ngx_http_echostream_healthz_done(ngx_http_request_t *r, void *data,
                                 ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_loc_conf_t *elcf;
    const char *error = res->error;
    const char *status;
    ngx_uint_t i, code, all_alive;
    ngx_str_t *names;
    redisReply *ping, *all;
    ngx_time_t *tp;
    long long now_ms;
    json_t *root, *redis, *workers, *w;
    char name[80];
    ngx_int_t rc;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    root = json_object();
    redis = json_object();
    workers = json_object();
    if (root == NULL || redis == NULL || workers == NULL) {
        json_decref(redis);
        json_decref(workers);
        goto failed;
    }

    /* "status" leads the document; its value is set at the end */
    if (json_object_set_new(root, "status", json_string("down")) != 0) {
        json_decref(redis);
        json_decref(workers);
        goto failed;
    }

    /* root steals both, even when setting fails */
    if (json_object_set_new(root, "redis", redis) != 0) {
        json_decref(workers);
        goto failed;
    }
    if (json_object_set_new(root, "workers", workers) != 0) {
        goto failed;
    }

    ping = NULL;
    all = NULL;

    if (res->replies != NULL) {
        ping = res->replies[0];
        all = res->replies[1];

        if (ping->type == REDIS_REPLY_ERROR) {
            error = ping->str;

        } else if (all->type == REDIS_REPLY_ERROR) {
            error = all->str;

        } else if (all->type != REDIS_REPLY_ARRAY) {
            error = "unexpected reply to HGETALL";
        }
    }

    /* expected workers first, in configuration order */
    names = elcf->expect_workers->elts;
    for (i = 0; i < elcf->expect_workers->nelts; i++) {
        ngx_cpystrn((u_char *)name, names[i].data,
                    ngx_min(names[i].len + 1, sizeof(name)));
        if (ngx_http_echostream_healthz_worker(workers, name) == NULL) {
            goto failed;
        }
    }

    if (error != NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream healthz: redis down: %s", error);

        if (json_object_set_new(redis, "state", json_string("down")) != 0 ||
            json_object_set_new(redis, "error", json_string(error)) != 0 ||
            json_object_set_new(root, "status", json_string("down")) != 0) {
            goto failed;
        }

        code = NGX_HTTP_SERVICE_UNAVAILABLE;
        goto send;
    }

    if (json_object_set_new(redis, "state", json_string("up")) != 0 ||
        json_object_set_new(
            redis, "latency_ms",
            json_real((double)(ngx_int_t)(res->latency_ms * 100 + 0.5) /
                      100)) != 0) {
        goto failed;
    }

    tp = ngx_timeofday();
    now_ms = (long long)tp->sec * 1000 + (long long)tp->msec;

    for (i = 0; i + 1 < all->elements; i += 2) {
        ngx_http_echostream_healthz_beat(r, workers, all->element[i],
                                         all->element[i + 1], now_ms);
    }

    all_alive = 1;
    for (i = 0; i < elcf->expect_workers->nelts; i++) {
        ngx_cpystrn((u_char *)name, names[i].data,
                    ngx_min(names[i].len + 1, sizeof(name)));
        w = json_object_get(workers, name); /* borrowed */
        if (w == NULL || !json_is_true(json_object_get(w, "alive"))) {
            all_alive = 0;
        }
    }

    status = all_alive ? "ok" : "degraded";
    code = all_alive ? NGX_HTTP_OK : NGX_HTTP_SERVICE_UNAVAILABLE;

    if (json_object_set_new(root, "status", json_string(status)) != 0) {
        goto failed;
    }

send:

    rc = ngx_http_echostream_health_send(r, code, root);
    json_decref(root);
    ngx_http_finalize_request(r, rc);
    return;

failed:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "echostream healthz: out of memory");
    json_decref(root);
    ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
}

/*
 * Returns the entry for worker name in workers, adding
 * {"alive":false,"instances":[]} if missing; borrowed reference, NULL when
 * memory ran out.
 */
static json_t *ngx_http_echostream_healthz_worker(json_t *workers,
                                                  const char *name)
{
    json_t *w;

    w = json_object_get(workers, name);
    if (w != NULL) {
        return w;
    }

    w = json_pack("{s:b, s:[]}", "alive", 0, "instances");
    if (w == NULL) {
        return NULL;
    }

    /* workers steals w */
    if (json_object_set_new(workers, name, w) != 0) {
        return NULL;
    }

    return w;
}

/*
 * Adds one es:workers field (a heartbeat) to workers; a malformed one is
 * logged and skipped.
 */
static void ngx_http_echostream_healthz_beat(ngx_http_request_t *r,
                                             json_t *workers, redisReply *field,
                                             redisReply *value,
                                             long long now_ms)
{
    json_t *hb, *wname, *inst, *pid, *beat, *interval, *status, *host, *w, *o;
    const char *why, *instance;
    char hostname[128];
    json_error_t jerr;
    long long age;
    int alive, fieldlen;

    hb = NULL;

    if (field->type != REDIS_REPLY_STRING ||
        value->type != REDIS_REPLY_STRING) {
        why = "not a string";
        goto malformed;
    }

    hb = json_loadb(value->str, value->len, JSON_REJECT_DUPLICATES, &jerr);
    if (hb == NULL) {
        why = jerr.text;
        goto malformed;
    }

    /* all borrowed from hb */
    wname = json_object_get(hb, "worker");
    inst = json_object_get(hb, "instance");
    pid = json_object_get(hb, "pid");
    beat = json_object_get(hb, "beat_ms");
    interval = json_object_get(hb, "interval_ms");
    status = json_object_get(hb, "status");
    host = json_object_get(hb, "host");

    if (!json_is_object(hb) || !json_is_string(wname) ||
        json_string_length(wname) == 0 || !json_is_integer(beat) ||
        !json_is_integer(interval) || json_integer_value(interval) <= 0) {
        why = "needs \"worker\", \"beat_ms\" and \"interval_ms\" > 0";
        goto malformed;
    }

    instance = ngx_http_echostream_heartbeat_instance(
        field->str, field->len,
        json_is_string(inst) ? json_string_value(inst) : NULL);

    ngx_http_echostream_healthz_host(
        hostname, sizeof(hostname), json_string_value(host), instance,
        json_is_integer(pid) ? (long long)json_integer_value(pid) : -1);

    age = now_ms - (long long)json_integer_value(beat);
    alive = age < NGX_HTTP_ECHOSTREAM_ALIVE_INTERVALS *
                      (long long)json_integer_value(interval);

    /* the copy shares status with hb: a new reference for o to steal */
    o = json_pack(
        "{s:s, s:s, s:o, s:I, s:b, s:o}", "instance", instance, "host",
        hostname, "pid", json_is_integer(pid) ? json_incref(pid) : json_null(),
        "beat_age_ms", (json_int_t)(age < 0 ? 0 : age), "alive", alive,
        "status", json_is_object(status) ? json_incref(status) : json_object());
    if (o == NULL) {
        why = "out of memory";
        goto malformed;
    }

    w = ngx_http_echostream_healthz_worker(workers, json_string_value(wname));
    if (w == NULL ||
        json_array_append_new(json_object_get(w, "instances"), o) != 0) {
        why = "out of memory";
        goto malformed;
    }

    if (alive) {
        json_object_set_new(w, "alive", json_true());
    }

    json_decref(hb);
    return;

malformed:

    fieldlen =
        field->type == REDIS_REPLY_STRING ? (int)ngx_min(field->len, 80) : 0;
    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "echostream healthz: skipping malformed heartbeat "
                  "\"%*s\": %s",
                  (size_t)fieldlen, field->str, why);
    json_decref(hb);
}

/*
 * The host a heartbeat came from: its "host" when it has one, else its
 * instance without the "-<pid>" the workers append (es_worker.c names an
 * instance "<hostname>-<pid>"), else the instance as it is.
 */
static void ngx_http_echostream_healthz_host(char *buf, size_t size,
                                             const char *host,
                                             const char *instance,
                                             long long pid)
{
    char suffix[32];
    size_t len, slen;

    if (host != NULL && host[0] != '\0') {
        ngx_cpystrn((u_char *)buf, (u_char *)host, size);
        return;
    }

    len = ngx_strlen(instance);
    slen = 0;
    if (pid >= 0) {
        slen = (size_t)(ngx_snprintf((u_char *)suffix, sizeof(suffix), "-%L",
                                     (int64_t)pid) -
                        (u_char *)suffix);
    }

    if (slen > 0 && len > slen &&
        ngx_memcmp(instance + len - slen, suffix, slen) == 0) {
        len -= slen;
    }

    ngx_cpystrn((u_char *)buf, (u_char *)instance, ngx_min(len + 1, size));
}

ngx_int_t ngx_http_echostream_health_send(ngx_http_request_t *r,
                                          ngx_uint_t status, json_t *body)
{
    ngx_table_elt_t *h;
    ngx_chain_t out;
    ngx_buf_t *b;
    ngx_int_t rc;
    size_t size, flags;

    flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6);

    size = json_dumpb(body, NULL, 0, flags);
    if (size == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json_dumpb(body, (char *)b->pos, size, flags) != size) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = b->pos + size;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    r->headers_out.status = status;
    r->headers_out.content_length_n = size;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}

const char *ngx_http_echostream_heartbeat_instance(const char *field,
                                                   size_t len, const char *inst)
{
    const char *colon;

    if (inst != NULL) {
        return inst;
    }
    colon =
        (const char *)ngx_strlchr((u_char *)field, (u_char *)field + len, ':');
    return colon ? colon + 1 : field;
}
