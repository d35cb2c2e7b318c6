/*
 * ngx_http_echostream_rule_validate.c - the checks of an alert rule and
 * its canonical form (see ngx_http_echostream_rule_validate.h).
 *
 * Numbers are accepted as JSON numbers only ("20" is refused), integers
 * also as reals without a fraction. E-mail addresses are lower-cased and
 * de-duplicated. A webhook is an https:// URL; plain http:// is allowed
 * only to this machine, for a local receiver, and user-info is refused
 * everywhere, so "https://good@evil/" cannot pass as another host.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <ctype.h>
#include <math.h>

#include "ngx_http_echostream_api.h"
#include "ngx_http_echostream_rule_validate.h"
#include "ngx_http_echostream_tenant_util.h"

/* the members of a rule after its id, in stored order */
enum {
    RULE_TOPIC = 0,
    RULE_ENABLED,
    RULE_MIN_VOLUME,
    RULE_SENSITIVITY,
    RULE_COOLDOWN,
    RULE_EMAIL,
    RULE_WEBHOOK,
    RULE_NFIELDS
};

static const char *const ngx_http_echostream_rule_fields[] = {
    "topic", "enabled", "min_volume", "sensitivity", "cooldown_minutes",
    "email", "webhook", NULL};

static json_t *ngx_http_echostream_rule_emails(json_t *v);
static int ngx_http_echostream_webhook_valid(const u_char *s, size_t n);

const char *ngx_http_echostream_rule_check(json_t *src, json_t *base,
                                           const char *id, json_t **out,
                                           const char **field)
{
    const char *topic, *hook;
    json_int_t volume, cooldown;
    json_t *emails, *webhook;
    json_t *f[RULE_NFIELDS];
    double sensitivity;
    ngx_uint_t i;
    int enabled;

    *out = NULL;

    for (i = 0; i < RULE_NFIELDS; i++) {
        f[i] = json_object_get(src, ngx_http_echostream_rule_fields[i]);
        if (f[i] == NULL && base != NULL) {
            f[i] = json_object_get(base, ngx_http_echostream_rule_fields[i]);
        }
    }

    *field = "topic";
    topic = json_string_value(f[RULE_TOPIC]);
    if (topic == NULL ||
        !ngx_http_echostream_api_id_valid((const u_char *)topic,
                                          json_string_length(f[RULE_TOPIC]))) {
        return f[RULE_TOPIC] ? "topic must be a topic id" : "topic is required";
    }

    *field = "enabled";
    enabled = 1;
    if (f[RULE_ENABLED] != NULL) {
        if (!json_is_boolean(f[RULE_ENABLED])) {
            return "enabled must be true or false";
        }
        enabled = json_is_true(f[RULE_ENABLED]);
    }

    *field = "min_volume";
    volume = 20;
    if (f[RULE_MIN_VOLUME] != NULL &&
        (ngx_http_echostream_json_int(f[RULE_MIN_VOLUME], &volume) != NGX_OK ||
         volume < 1 || volume > 1000000)) {
        return "min_volume must be an integer from 1 to 1000000";
    }

    *field = "sensitivity";
    sensitivity = 3.0;
    if (f[RULE_SENSITIVITY] != NULL) {
        sensitivity = json_number_value(f[RULE_SENSITIVITY]);
        if (!json_is_number(f[RULE_SENSITIVITY]) || !isfinite(sensitivity) ||
            sensitivity < 0.5 || sensitivity > 20) {
            return "sensitivity must be a number from 0.5 to 20";
        }
    }

    *field = "cooldown_minutes";
    cooldown = 60;
    if (f[RULE_COOLDOWN] != NULL &&
        (ngx_http_echostream_json_int(f[RULE_COOLDOWN], &cooldown) != NGX_OK ||
         cooldown < 1 || cooldown > 10080)) {
        return "cooldown_minutes must be an integer from 1 to 10080";
    }

    *field = "webhook";
    hook = NULL;
    if (f[RULE_WEBHOOK] != NULL && !json_is_null(f[RULE_WEBHOOK])) {
        hook = json_string_value(f[RULE_WEBHOOK]);
        if (hook == NULL ||
            !ngx_http_echostream_webhook_valid(
                (const u_char *)hook, json_string_length(f[RULE_WEBHOOK]))) {
            return "webhook must be null or an https:// URL of at most 2048 "
                   "characters (http:// only to localhost)";
        }
    }

    *field = "email";
    emails = ngx_http_echostream_rule_emails(f[RULE_EMAIL]);
    if (emails == NULL) {
        return "email must be an array of at most 10 e-mail addresses";
    }

    webhook = hook ? json_string(hook) : json_null();

    /* steals emails and webhook */
    *out = json_pack("{s:s, s:s, s:b, s:I, s:f, s:I, s:o, s:o}", "id", id,
                     "topic", topic, "enabled", enabled, "min_volume", volume,
                     "sensitivity", sensitivity, "cooldown_minutes", cooldown,
                     "email", emails, "webhook", webhook);
    *field = NULL;

    return NULL;
}

/*
 * The "email" member (borrowed; NULL = []) as a new array of lower-case,
 * de-duplicated addresses; NULL when invalid (or without memory).
 */
static json_t *ngx_http_echostream_rule_emails(json_t *v)
{
    u_char norm[NGX_HTTP_ECHOSTREAM_EMAIL_MAX + 1];
    json_t *list, *e;
    size_t i, j, len;

    list = json_array();
    if (list == NULL || v == NULL) {
        return list;
    }

    if (!json_is_array(v) ||
        json_array_size(v) > NGX_HTTP_ECHOSTREAM_RULE_EMAILS_MAX) {
        goto invalid;
    }

    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i); /* borrowed */
        if (!json_is_string(e)) {
            goto invalid;
        }

        len = ngx_http_echostream_email_normalize(
            (const u_char *)json_string_value(e), json_string_length(e), norm);
        if (len == 0) {
            goto invalid;
        }

        for (j = 0; j < json_array_size(list); j++) {
            if (ngx_strcmp(json_string_value(json_array_get(list, j)), norm) ==
                0) {
                break;
            }
        }

        if (j == json_array_size(list) &&
            json_array_append_new(list, json_string((char *)norm)) != 0) {
            goto invalid;
        }
    }

    return list;

invalid:

    json_decref(list);
    return NULL;
}

/*
 * 1 when s[0..n) is a webhook URL the alert worker may post to: https://
 * to any host, or http:// to this machine only (a local receiver in
 * development and tests); printable ASCII, a host, an optional numeric
 * port, and no user-info, so "https://good@evil" cannot disguise a host.
 */
static int ngx_http_echostream_webhook_valid(const u_char *s, size_t n)
{
    const u_char *p, *end, *auth, *host_end, *q;
    ngx_uint_t https;
    size_t i;

    if (n > NGX_HTTP_ECHOSTREAM_WEBHOOK_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) {
            return 0;
        }
    }

    if (n > 8 && ngx_strncasecmp((u_char *)s, (u_char *)"https://", 8) == 0) {
        https = 1;
        p = s + 8;

    } else if (n > 7 &&
               ngx_strncasecmp((u_char *)s, (u_char *)"http://", 7) == 0) {
        https = 0;
        p = s + 7;

    } else {
        return 0;
    }

    end = s + n;
    auth = p;
    while (auth < end && *auth != '/' && *auth != '?' && *auth != '#') {
        auth++;
    }

    if (auth == p || ngx_strlchr((u_char *)p, (u_char *)auth, '@') != NULL) {
        return 0;
    }

    if (*p == '[') {
        /* an IPv6 literal */
        host_end = ngx_strlchr((u_char *)p, (u_char *)auth, ']');
        if (host_end == NULL || host_end == p + 1) {
            return 0;
        }
        for (q = p + 1; q < host_end; q++) {
            if (!(isxdigit(*q) || *q == ':' || *q == '.')) {
                return 0;
            }
        }
        host_end++;

    } else {
        host_end = p;
        while (host_end < auth && *host_end != ':') {
            if (!(isalnum(*host_end) || *host_end == '.' || *host_end == '-')) {
                return 0;
            }
            host_end++;
        }
        if (host_end == p) {
            return 0;
        }
    }

    if (host_end < auth) {
        if (*host_end != ':' || host_end + 1 == auth || auth - host_end > 6) {
            return 0;
        }
        for (q = host_end + 1; q < auth; q++) {
            if (!isdigit(*q)) {
                return 0;
            }
        }
    }

    if (!https &&
        !((host_end - p == 9 &&
           ngx_strncasecmp((u_char *)p, (u_char *)"localhost", 9) == 0) ||
          (host_end - p == 9 && ngx_strncmp(p, "127.0.0.1", 9) == 0))) {
        return 0;
    }

    return 1;
}
