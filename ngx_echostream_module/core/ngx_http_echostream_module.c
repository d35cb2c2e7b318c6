/*
 * ngx_http_echostream_module.c - the EchoStream nginx module: directives,
 * configuration and the per-worker Redis connection's lifetime.
 *
 * The directives are registered in one table
 * (ngx_http_echostream_directives.c) and documented in docs/module.md; a
 * test holds the two together. Defaults are applied only here, in
 * init_main_conf and merge_loc_conf (and, for the token checks, in
 * ngx_http_echostream_auth_init_conf), never where a value is used.
 *
 * Everything is checked when the configuration is read, so a bad value
 * fails "nginx -t" with the directive's name; the Redis host (or each
 * sentinel) is resolved there too (ngx_http_echostream_redis_conf.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "auth/ngx_http_echostream_auth_conf.h"
#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_metrics.h"
#include "core/ngx_http_echostream_module.h"
#include "redis/ngx_http_echostream_redis.h"
#include "api/ngx_http_echostream_series_cache.h"

#define NGX_HTTP_ECHOSTREAM_DEFAULT_REDIS "redis://127.0.0.1:6379/0"

static void *ngx_http_echostream_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_echostream_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_echostream_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_echostream_merge_loc_conf(ngx_conf_t *cf, void *parent,
                                                void *child);
static ngx_int_t ngx_http_echostream_init_process(ngx_cycle_t *cycle);
static void ngx_http_echostream_exit_process(ngx_cycle_t *cycle);

static ngx_http_module_t ngx_http_echostream_module_ctx = {
    ngx_http_echostream_add_variables, /* preconfiguration */
    NULL,                              /* postconfiguration */

    ngx_http_echostream_create_main_conf, /* create main configuration */
    ngx_http_echostream_init_main_conf,   /* init main configuration */

    NULL, /* create server configuration */
    NULL, /* merge server configuration */

    ngx_http_echostream_create_loc_conf, /* create location configuration */
    ngx_http_echostream_merge_loc_conf   /* merge location configuration */
};

ngx_module_t ngx_http_echostream_module = {
    NGX_MODULE_V1,
    &ngx_http_echostream_module_ctx,  /* module context */
    ngx_http_echostream_commands,     /* module directives */
    NGX_HTTP_MODULE,                  /* module type */
    NULL,                             /* init master */
    NULL,                             /* init module */
    ngx_http_echostream_init_process, /* init process */
    NULL,                             /* init thread */
    NULL,                             /* exit thread */
    ngx_http_echostream_exit_process, /* exit process */
    NULL,                             /* exit master */
    NGX_MODULE_V1_PADDING};

static void *ngx_http_echostream_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_echostream_main_conf_t *emcf;

    emcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_echostream_main_conf_t));
    if (emcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     emcf->redis = { 0 };
     *     emcf->redis_set = 0;
     *     emcf->used = 0;
     *     emcf->api_used = 0;
     *     emcf->rate_zone = NULL;
     *     emcf->mail_secret = { 0, NULL };
     */

    emcf->series_cache = NGX_CONF_UNSET_UINT;
    emcf->comprehend_budget_max = NGX_CONF_UNSET;
    emcf->bedrock_budget_max = NGX_CONF_UNSET;
    emcf->series_cache_size = NGX_CONF_UNSET_SIZE;

    if (ngx_http_echostream_auth_create_conf(cf, emcf) != NGX_OK) {
        return NULL;
    }

    return emcf;
}

static char *ngx_http_echostream_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t url = ngx_string(NGX_HTTP_ECHOSTREAM_DEFAULT_REDIS);

    char *rv;

    if (!emcf->redis_set &&
        ngx_http_echostream_redis_parse_conf(cf, &url, &emcf->redis,
                                             emcf->redis_addr) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(emcf->series_cache, 1024);
    ngx_conf_init_value(emcf->comprehend_budget_max, 1000);
    if (emcf->comprehend_budget_max < 0 ||
        emcf->comprehend_budget_max > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_comprehend_budget_max\" must be "
                           "from 0 to 1000000 (whole US dollars)");
        return NGX_CONF_ERROR;
    }
    ngx_conf_init_value(emcf->bedrock_budget_max, 1000);
    if (emcf->bedrock_budget_max < 0 || emcf->bedrock_budget_max > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_bedrock_budget_max\" must be "
                           "from 0 to 1000000 (whole US dollars)");
        return NGX_CONF_ERROR;
    }
    ngx_conf_init_size_value(emcf->series_cache_size, 16 * 1024 * 1024);

    rv = ngx_http_echostream_auth_init_conf(cf, emcf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (emcf->api_used || emcf->metrics_zone != NULL) {
        if (ngx_http_echostream_metrics_zone(cf, emcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}

static void *ngx_http_echostream_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_echostream_loc_conf_t *elcf;

    elcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_echostream_loc_conf_t));
    if (elcf == NULL) {
        return NULL;
    }

    elcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    elcf->expect_workers = NGX_CONF_UNSET_PTR;
    elcf->cors_origins = NGX_CONF_UNSET_PTR;
    elcf->max_body = NGX_CONF_UNSET_SIZE;
    elcf->healthz_loopback = NGX_CONF_UNSET;
    elcf->healthz_token_sha256 = NGX_CONF_UNSET_PTR;

    return elcf;
}

static char *ngx_http_echostream_merge_loc_conf(ngx_conf_t *cf, void *parent,
                                                void *child)
{
    ngx_http_echostream_loc_conf_t *prev = parent;
    ngx_http_echostream_loc_conf_t *conf = child;
    ngx_str_t *name;

    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 1000);

    ngx_conf_merge_ptr_value(conf->expect_workers, prev->expect_workers, NULL);
    ngx_conf_merge_ptr_value(conf->cors_origins, prev->cors_origins, NULL);
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 64 * 1024);
    ngx_conf_merge_value(conf->healthz_loopback, prev->healthz_loopback, 1);
    ngx_conf_merge_ptr_value(conf->healthz_token_sha256,
                             prev->healthz_token_sha256, NULL);

    if (conf->max_body == 0 || conf->max_body > 16 * 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_api_max_body\" must be between 1 "
                           "and 16m");
        return NGX_CONF_ERROR;
    }

    if (conf->expect_workers == NULL) {
        conf->expect_workers = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (conf->expect_workers == NULL) {
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push_n(conf->expect_workers, 2);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_set(&name[0], "ingest");
        ngx_str_set(&name[1], "mirror");
    }

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_redis(ngx_conf_t *cf, ngx_command_t *cmd,
                                     void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value;

    if (emcf->redis_set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_echostream_redis_parse_conf(cf, &value[1], &emcf->redis,
                                             emcf->redis_addr) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    emcf->redis_set = 1;

    return NGX_CONF_OK;
}

/*
 * "echostream_redis_timeout MS": a bare number is milliseconds (nginx's own
 * time slots would read it as seconds); "2s" or "500ms" work too.
 */
char *ngx_http_echostream_conf_redis_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
                                             void *conf)
{
    ngx_http_echostream_loc_conf_t *elcf = conf;
    ngx_str_t *value;
    ngx_int_t ms;

    if (elcf->redis_timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ms = ngx_atoi(value[1].data, value[1].len);
    if (ms == NGX_ERROR) {
        ms = ngx_parse_time(&value[1], 0);
    }

    if (ms == NGX_ERROR || ms <= 0 || ms > 3600000) {
        return "needs milliseconds between 1 and 3600000";
    }

    elcf->redis_timeout = (ngx_msec_t)ms;

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_expect_workers(ngx_conf_t *cf,
                                              ngx_command_t *cmd, void *conf)
{
    ngx_http_echostream_loc_conf_t *elcf = conf;
    ngx_str_t *value, *name;
    ngx_uint_t i, j;
    u_char ch;

    if (elcf->expect_workers != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    elcf->expect_workers =
        ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (elcf->expect_workers == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* worker names are what the workers put before ':' in es:workers */
        for (j = 0; j < value[i].len; j++) {
            ch = value[i].data[j];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_')) {
                break;
            }
        }

        if (value[i].len == 0 || value[i].len > 64 || j < value[i].len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid worker name \"%V\" in "
                               "\"echostream_expect_workers\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(elcf->expect_workers);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_healthz(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf)
{
    ngx_http_core_loc_conf_t *clcf;
    ngx_http_echostream_main_conf_t *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_echostream_healthz_handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_echostream_module);
    emcf->used = 1;

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_api(ngx_conf_t *cf, ngx_command_t *cmd,
                                   void *conf)
{
    ngx_http_core_loc_conf_t *clcf;
    ngx_http_echostream_main_conf_t *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_echostream_api_handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_echostream_module);
    emcf->used = 1;
    emcf->api_used = 1;

    return NGX_CONF_OK;
}

char *ngx_http_echostream_conf_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf)
{
    ngx_http_core_loc_conf_t *clcf;
    ngx_http_echostream_main_conf_t *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_echostream_metrics_handler;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_echostream_module);
    if (ngx_http_echostream_metrics_zone(cf, emcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

/*
 * "echostream_cors_origins https://app.example.com …": exact origins
 * (scheme://host[:port], no path) allowed to call the API from a browser;
 * "*" allows any origin (tokens travel in a header, never in cookies).
 */
char *ngx_http_echostream_conf_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
                                            void *conf)
{
    ngx_http_echostream_loc_conf_t *elcf = conf;
    ngx_str_t *value, *o;
    ngx_uint_t i, j, slashes;

    if (elcf->cors_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    elcf->cors_origins =
        ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (elcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (!(value[i].len == 1 && value[i].data[0] == '*')) {
            slashes = 0;
            for (j = 0; j < value[i].len; j++) {
                if (value[i].data[j] == '/') {
                    slashes++;
                }
                if (value[i].data[j] <= ' ' || value[i].data[j] >= 0x7f) {
                    break;
                }
            }

            if (j < value[i].len || slashes != 2 ||
                !(ngx_strncmp(value[i].data, "http://", 7) == 0 ||
                  ngx_strncmp(value[i].data, "https://", 8) == 0) ||
                value[i].data[value[i].len - 1] == '/') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid origin \"%V\" in "
                                   "\"echostream_cors_origins\": use "
                                   "scheme://host[:port] or *",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        o = ngx_array_push(elcf->cors_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }
        *o = value[i];
    }

    return NGX_CONF_OK;
}

/*
 * echostream_series_cache N [max_size=SIZE]: at most N series answers and
 * SIZE bytes of them per worker (ngx_http_echostream_series_cache.h).
 */
char *ngx_http_echostream_conf_series_cache(ngx_conf_t *cf, ngx_command_t *cmd,
                                            void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value, size;
    ngx_int_t n;
    ssize_t bytes;

    if (emcf->series_cache != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_series_cache\" needs a number of "
                           "entries between 0 and 1000000, not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }
    emcf->series_cache = (ngx_uint_t)n;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 9 ||
            ngx_strncmp(value[2].data, "max_size=", 9) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"echostream_series_cache\" takes "
                               "\"max_size=SIZE\" after the entries, not "
                               "\"%V\"",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        size.data = value[2].data + 9;
        size.len = value[2].len - 9;
        bytes = ngx_parse_size(&size);
        if (bytes == NGX_ERROR || bytes < 65536 || bytes > 1024 * 1024 * 1024) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"echostream_series_cache\" max_size must "
                               "be between 64k and 1g, not \"%V\"",
                               &size);
            return NGX_CONF_ERROR;
        }
        emcf->series_cache_size = (size_t)bytes;
    }

    return NGX_CONF_OK;
}

static ngx_int_t ngx_http_echostream_init_process(ngx_cycle_t *cycle)
{
    ngx_http_echostream_main_conf_t *emcf;

    /* cache manager and loader processes serve no requests */
    if (ngx_process != NGX_PROCESS_WORKER &&
        ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    emcf =
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_echostream_module);
    if (emcf == NULL) {
        return NGX_OK;
    }

    if (emcf->metrics_zone != NULL) {
        ngx_http_echostream_metrics_workers_start(cycle);
    }

    if (!(emcf->used || emcf->redis_set)) {
        return NGX_OK;
    }

    if (ngx_http_echostream_redis_init_process(cycle, &emcf->redis,
                                               emcf->redis_addr) != NGX_OK) {
        return NGX_ERROR;
    }

    if (emcf->api_used) {
        if (ngx_http_echostream_series_cache_init(emcf->series_cache,
                                                  emcf->series_cache_size,
                                                  cycle->log) != NGX_OK) {
            return NGX_ERROR;
        }
        return ngx_http_echostream_auth_init_process(cycle, emcf);
    }

    return NGX_OK;
}

static void ngx_http_echostream_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_echostream_metrics_workers_stop();
    ngx_http_echostream_series_cache_exit();
    ngx_http_echostream_auth_exit_process(cycle);
    ngx_http_echostream_redis_exit_process(cycle);
}
