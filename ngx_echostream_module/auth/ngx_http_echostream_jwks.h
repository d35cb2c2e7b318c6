/*
 * ngx_http_echostream_jwks.h - the identity provider's JSON Web Key Set,
 * fetched inside each nginx worker without blocking it.
 *
 * Each worker process keeps its own key set and fetches it over HTTP(S)
 * through nginx's event loop (ngx_http_echostream_http_client.h): once at
 * start, again every "refresh" seconds, and on demand when a token names
 * a kid the set does not hold. At most one fetch is in flight per worker;
 * requests waiting for keys join it. Demand fetches are rate-limited: after
 * a fetch ends, a new kid waits "penalty" seconds before it may cause
 * another (the rule AWS's own verifier follows), so a stream of forged
 * kids cannot turn nginx into a load generator against the provider.
 * Until a first set has been fetched, fetches are retried in the
 * background with back-off (1 s doubling to 30 s).
 *
 * The host name of the URI is resolved at configuration time, with the
 * system's resolver, to its addresses. When nginx's "resolver" directive
 * is given at http level, each fetch looks the name up again through it
 * (asynchronously, as proxy_pass with variables does), so an identity
 * provider whose name moves is followed without a reload; a failed lookup
 * falls back to the configuration-time addresses.
 *
 * Usage from the token check, for a token whose kid is unknown:
 *
 *     rc = ngx_http_echostream_jwks_wait(r, kid, resume, ctx);
 *     NGX_OK:       return NGX_DONE; resume() re-checks
 *                   ngx_http_echostream_jwks_get() and finalizes r
 *     NGX_DECLINED: answer 401 now
 *     NGX_ERROR:    answer 500 now
 */

#ifndef _NGX_HTTP_ECHOSTREAM_JWKS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_JWKS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_jwt.h"
#include "auth/ngx_http_echostream_http_client.h"

/* a JWKS document larger than this is refused */
#define NGX_HTTP_ECHOSTREAM_JWKS_MAX_SIZE 65536

#define NGX_HTTP_ECHOSTREAM_JWKS_DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct {
    /*
     * Set by the directives; a member left at NGX_CONF_UNSET (penalty,
     * refresh), NGX_CONF_UNSET_MSEC or 0 (timeout) or empty
     * (trusted_certificate) gets its default in init_conf.
     */
    ngx_str_t uri;                 /* http(s)://host[:port]/path */
    ngx_str_t trusted_certificate; /* CA file for https; default
                                      /etc/ssl/certs/ca-certificates.crt */
    ngx_msec_t timeout;            /* whole fetch; default 5000 ms */
    time_t penalty; /* min seconds between fetches triggered by unknown
                       kids; default 10 */
    time_t refresh; /* background refetch period; default 3600; 0 never */

    /* filled by ngx_http_echostream_jwks_init_conf */
    ngx_http_echostream_http_target_t target; /* address, Host, path, TLS */
    ngx_flag_t https;
} ngx_http_echostream_jwks_conf_t;

/*
 * At configuration time (from the module's init_main_conf, when a JWKS
 * URI is configured): applies defaults, parses the URI, resolves its host
 * and, for https, creates the TLS context with the trusted certificates.
 * A bad URI, an unresolvable host or an unreadable CA file is logged with
 * ngx_conf_log_error naming directive (e.g. "echostream_jwks_uri"), and
 * NGX_CONF_ERROR returned. Everything lives in cf->pool (the cycle's).
 */
char *ngx_http_echostream_jwks_init_conf(ngx_conf_t *cf,
                                         ngx_http_echostream_jwks_conf_t *jc,
                                         const char *directive);

/*
 * In each worker process (jc lives as long as the cycle): takes the http
 * level's resolver into jc->target, starts the first fetch at once
 * (non-blocking) and arms the refresh timer. Does nothing in
 * processes that serve no requests.
 */
ngx_int_t
ngx_http_echostream_jwks_init_process(ngx_cycle_t *cycle,
                                      ngx_http_echostream_jwks_conf_t *jc);

/*
 * At worker exit: closes a fetch in flight, drops waiting requests without
 * calling them (they are torn down with the process), frees the key set.
 * Safe to call when init_process never ran.
 */
void ngx_http_echostream_jwks_exit_process(ngx_cycle_t *cycle);

/*
 * The worker's current key set, NULL before the first successful fetch.
 * Borrowed: valid until control returns to the event loop (a later fetch
 * frees it when swapping in a new set).
 */
const es_jwks *ngx_http_echostream_jwks_get(void);

typedef void (*ngx_http_echostream_jwks_handler_pt)(ngx_http_request_t *r,
                                                    void *data);

/*
 * For a token whose kid (NUL-terminated, used for debug logging only) is
 * not in the current set, or while there is no set yet. Returns
 *
 *   NGX_OK: handler will be called exactly once, later (never from inside
 *     this call), when a fetch finished, failed or timed out; the handler
 *     then re-checks ngx_http_echostream_jwks_get() and finalizes r.
 *     r->main->count was incremented (as ngx_http_echostream_redis_pipeline
 *     does), so the content handler returns NGX_DONE. A request that goes
 *     away first is detached by a pool cleanup and never called.
 *   NGX_DECLINED: no fetch now (one ended less than "penalty" seconds ago
 *     and a set exists, or the worker is exiting): answer 401 at once.
 *   NGX_ERROR: out of memory; the handler is never called.
 *
 * At most one fetch is in flight per worker; every waiter joins it. While
 * no set exists, waiters are never declined: they join the next
 * background attempt, which a waiter brings forward to one second after
 * the previous attempt ended (so requests wait about a second, not the
 * whole back-off, and the provider sees at most one attempt a second).
 */
ngx_int_t
ngx_http_echostream_jwks_wait(ngx_http_request_t *r, const char *kid,
                              ngx_http_echostream_jwks_handler_pt handler,
                              void *data);

/* Counters for /metrics. */
typedef struct {
    ngx_uint_t fetches;  /* fetches started */
    ngx_uint_t failures; /* fetches that brought no new set */
    ngx_uint_t keys;     /* keys in the current set */
    time_t last_ok;      /* unix time of the last success, 0 never */
} ngx_http_echostream_jwks_stats_t;

void ngx_http_echostream_jwks_stats(ngx_http_echostream_jwks_stats_t *out);

#endif /* _NGX_HTTP_ECHOSTREAM_JWKS_H_INCLUDED_ */
