/*
 * ngx_http_echostream_prices.c - "echostream_prices FILE [INSTANCE [GB]]":
 * what the deployment costs a month whatever the tenants do, from the
 * price file the cost model reads (deploy/aws/prices.json, docs/cost.md),
 * for the prediction GET /usage shows.
 *
 * Read once, when the configuration is: a request never parses the file.
 * Only the figure the prediction needs is kept: the instance's hourly
 * price (INSTANCE, default the template's t4g.small) and the public IPv4
 * address's, times the 730 hours AWS bills a month, plus GB (default the
 * template's 20) of gp3 a month, in micro-dollars, with the newest date
 * of those prices. The rules are cost.py's: each price used must have a
 * "usd" >= 0, a "date" YYYY-MM-DD and an https "source", or "nginx -t"
 * fails naming the file and the price. Without the directive /usage has
 * no prediction.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <math.h>

#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_module.h"

#define NGX_HTTP_ECHOSTREAM_MONTH_HOURS 730.0

static const char *ngx_http_echostream_price(json_t *prices, const char *name,
                                             double *usd, const char **date);

char *ngx_http_echostream_conf_prices(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    const char *why, *date, *newest;
    char key[64], *path;
    double hour, ipv4, gb_month;
    ngx_str_t *value, name, inst;
    json_error_t jerr;
    json_t *root, *prices;
    ngx_int_t gb;
    size_t i;

    if (emcf->prices_set) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];
    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    ngx_str_set(&inst, "t4g.small");
    gb = 20;
    if (cf->args->nelts > 2) {
        inst = value[2];
    }
    if (cf->args->nelts > 3) {
        gb = ngx_atoi(value[3].data, value[3].len);
        if (gb < 1 || gb > 65536) {
            return "has an invalid volume size (GB, 1-65536)";
        }
    }
    if (inst.len == 0 || inst.len > 32) {
        return "has an invalid instance type";
    }
    for (i = 0; i < inst.len; i++) {
        u_char c = inst.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.')) {
            return "has an invalid instance type";
        }
    }

    path = ngx_pnalloc(cf->pool, name.len + 1);
    emcf->prices_instance.data = ngx_pnalloc(cf->pool, inst.len + 1);
    if (path == NULL || emcf->prices_instance.data == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_cpystrn((u_char *)path, name.data, name.len + 1);
    ngx_cpystrn(emcf->prices_instance.data, inst.data, inst.len + 1);
    emcf->prices_instance.len = inst.len;

    /* "ec2_t4g_small_hour", as prices.json names it */
    *ngx_snprintf((u_char *)key, sizeof(key) - 1, "ec2_%V_hour", &inst) = '\0';
    for (i = 4; key[i] != '\0'; i++) {
        if (key[i] == '.') {
            key[i] = '_';
        }
    }

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_prices\" \"%s\": %s (line %d)", path,
                           jerr.text, jerr.line);
        return NGX_CONF_ERROR;
    }
    prices = json_object_get(root, "prices");
    why = NULL;
    newest = "";
    if (!json_is_object(prices)) {
        why = "no \"prices\" object";
    } else if ((why = ngx_http_echostream_price(prices, key, &hour, &date)) ==
               NULL) {
        newest = date;
        if ((why = ngx_http_echostream_price(prices, "public_ipv4_hour", &ipv4,
                                             &date)) == NULL) {
            newest = ngx_strcmp(date, newest) > 0 ? date : newest;
            if ((why = ngx_http_echostream_price(prices, "ebs_gp3_gb_month",
                                                 &gb_month, &date)) == NULL) {
                newest = ngx_strcmp(date, newest) > 0 ? date : newest;
            }
        }
    }
    if (why != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_prices\" \"%s\": %s", path, why);
        json_decref(root);
        return NGX_CONF_ERROR;
    }

    emcf->prices_fixed_micros =
        (int64_t)llround(((hour + ipv4) * NGX_HTTP_ECHOSTREAM_MONTH_HOURS +
                          gb_month * (double)gb) *
                         1e6);
    ngx_cpystrn(emcf->prices_date, (u_char *)newest, sizeof(emcf->prices_date));
    emcf->prices_set = 1;
    json_decref(root);

    return NGX_CONF_OK;
}

/*
 * Price name of prices: its usd and date (pointing into prices), or why
 * it cannot be used. Static messages, so a caller only logs them.
 */
static const char *ngx_http_echostream_price(json_t *prices, const char *name,
                                             double *usd, const char **date)
{
    static char why[128];
    const char *d, *src;
    json_t *p, *v;
    size_t i;

    p = json_object_get(prices, name);
    v = json_object_get(p, "usd");
    if (!json_is_object(p) || !json_is_number(v) ||
        !isfinite(json_number_value(v)) || json_number_value(v) < 0) {
        ngx_snprintf((u_char *)why, sizeof(why) - 1,
                     "price %s has no usd >= 0%Z", name);
        return why;
    }
    d = json_string_value(json_object_get(p, "date"));
    for (i = 0; d != NULL && i < 10; i++) {
        if (!(i == 4 || i == 7 ? d[i] == '-' : d[i] >= '0' && d[i] <= '9')) {
            break;
        }
    }
    if (d == NULL || i != 10 || d[10] != '\0') {
        ngx_snprintf((u_char *)why, sizeof(why) - 1,
                     "price %s has no date (YYYY-MM-DD)%Z", name);
        return why;
    }
    src = json_string_value(json_object_get(p, "source"));
    if (src == NULL || ngx_strncmp(src, "https://", 8) != 0) {
        ngx_snprintf((u_char *)why, sizeof(why) - 1,
                     "price %s has no source URL%Z", name);
        return why;
    }
    *usd = json_number_value(v);
    *date = d;
    return NULL;
}
