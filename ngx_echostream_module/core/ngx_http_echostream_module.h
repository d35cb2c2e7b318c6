/*
 * ngx_http_echostream_module.h - configuration shared by the files of the
 * EchoStream nginx module.
 *
 * The module is split by concern (directives, the async Redis adapter, the
 * API framework, token checks, one file per group of routes); each file
 * reads the configuration through the types declared here, so directives
 * are parsed once at configuration time and never per request.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_jwt.h"
#include "es_redis_url.h"
#include "redis/ngx_http_echostream_redis.h"
#include "auth/ngx_http_echostream_jwks.h"

typedef struct {
    es_redis_url redis; /* parsed "echostream_redis", names as written */
    /* what its host names resolved to when the configuration was read:
     * [0] the host, or [i] sentinel i; connections go there when no
     * "resolver" is configured */
    ngx_http_echostream_redis_addr_t redis_addr[ES_REDIS_SENTINELS_MAX];
    ngx_flag_t redis_set; /* given explicitly (else the default) */
    ngx_flag_t used;      /* some location needs Redis */
    ngx_flag_t api_used;  /* some location has "echostream_api" */

    /* token checks: echostream_cognito / _issuer / _jwks_uri / … */
    ngx_http_echostream_jwks_conf_t jwks;
    ngx_array_t *issuers; /* of ngx_str_t, NUL-terminated */
    ngx_array_t *clients; /* of ngx_str_t, NUL-terminated */
    ngx_uint_t token_use; /* bit 1: id, bit 2: access */
    time_t leeway;
    ngx_uint_t token_cache_size;
    ngx_msec_t membership_ttl;
    ngx_flag_t tenant_claim; /* "echostream_tenant_claim": off */
    ngx_flag_t invite_verified_email;
    time_t invite_ttl;
    const char *auth_directive; /* which directive set the issuer */
    ngx_str_t cognito_jwks;     /* the JWKS of "echostream_cognito" */
    es_jwt_policy policy;       /* built from the above */

    /* per-tenant rate limit: "echostream_rate_limit" */
    ngx_shm_zone_t *rate_zone;
    ngx_uint_t rate;  /* requests per 1000 s (as limit_req) */
    ngx_uint_t burst; /* times 1000 */

    ngx_shm_zone_t *metrics_zone;

    /* "echostream_series_cache": answers and bytes per worker */
    ngx_uint_t series_cache;
    size_t series_cache_size;

    /* the most a tenant may set as its monthly Comprehend budget, in
     * whole US dollars: "echostream_comprehend_budget_max" (1000) */
    ngx_int_t comprehend_budget_max;
    /* the same for Bedrock: "echostream_bedrock_budget_max" (1000) */
    ngx_int_t bedrock_budget_max;

    /* the key of unsubscribe links, read from
     * "echostream_mail_secret_file" at configuration time; empty: none */
    ngx_str_t mail_secret;

    /* "echostream_prices" (ngx_http_echostream_prices.c), read at
     * configuration time: the deployment's fixed cost a month in
     * micro-dollars, the instance type it was priced for and the newest
     * date of those prices; prices_set 0: /usage has no prediction */
    ngx_flag_t prices_set;
    int64_t prices_fixed_micros;
    ngx_str_t prices_instance;
    u_char prices_date[sizeof("YYYY-MM-DD")];
} ngx_http_echostream_main_conf_t;

typedef struct {
    ngx_msec_t redis_timeout;    /* per command, "echostream_redis_timeout" */
    ngx_array_t *expect_workers; /* of ngx_str_t */
    ngx_array_t *cors_origins;   /* of ngx_str_t; "*" allows any */
    size_t max_body;             /* "echostream_api_max_body" */

    /* who may read /healthz: "echostream_healthz_loopback" (on) lets
     * loopback clients in; "echostream_healthz_token_file" lets in a
     * request bearing its token, kept only as its SHA-256 (32 bytes) */
    ngx_flag_t healthz_loopback;
    u_char *healthz_token_sha256;
} ngx_http_echostream_loc_conf_t;

extern ngx_module_t ngx_http_echostream_module;

/* a worker instance is alive while its heartbeat is younger than this many
   of its intervals (/healthz, /metrics) */
#define NGX_HTTP_ECHOSTREAM_ALIVE_INTERVALS 3

/*
 * The instance name of a heartbeat: its "instance" member when it is a
 * string (inst), else the hash field after its "<worker>:" (healthz.c, for
 * the /metrics reader too). field is the reply's NUL-terminated string.
 */
const char *ngx_http_echostream_heartbeat_instance(const char *field,
                                                   size_t len,
                                                   const char *inst);

/* The content handler of "echostream_healthz" (healthz.c). */
ngx_int_t ngx_http_echostream_healthz_handler(ngx_http_request_t *r);

/* The content handlers of "echostream_livez" and "echostream_readyz"
 * (probes.c). */
ngx_int_t ngx_http_echostream_livez_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_echostream_readyz_handler(ngx_http_request_t *r);

/*
 * Whether r may read /healthz: from loopback (when allowed) or with the
 * configured token (healthz_access.c).
 */
ngx_int_t ngx_http_echostream_healthz_allowed(ngx_http_request_t *r);

/*
 * Sends body (borrowed, a jansson json_t) as the whole JSON answer of a
 * health endpoint, with status and Cache-Control: no-store; returns what
 * ngx_http_finalize_request() should get (healthz.c, for probes.c too).
 */
struct json_t;
ngx_int_t ngx_http_echostream_health_send(ngx_http_request_t *r,
                                          ngx_uint_t status,
                                          struct json_t *body);

/* Adds $echostream_tenant and $echostream_route (variables.c). */
ngx_int_t ngx_http_echostream_add_variables(ngx_conf_t *cf);

/* The content handler of "echostream_metrics" (metrics.c). */
ngx_int_t ngx_http_echostream_metrics_handler(ngx_http_request_t *r);

#endif /* _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_ */
