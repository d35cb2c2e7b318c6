/*
 * es_req_rule.c - the checks of an alert rule and its canonical form
 * (es_req_rule.h).
 *
 * Numbers are accepted as JSON numbers only ("20" is refused), integers
 * also as reals without a fraction, since clients that only have doubles
 * send 20.0. E-mail addresses are lower-cased and de-duplicated, so the
 * worker sends one mail per address. A webhook is an https:// URL; plain
 * http:// is allowed only to this machine, for a local receiver, and
 * user-info is refused everywhere, so "https://good@evil/" cannot pass as
 * another host. The members are checked in a fixed order, so one body
 * always gets the same error. metric and window_minutes came later: a
 * rule stored before them is read back with their defaults, so every
 * answer and the alert worker see them.
 */
#include "es_req_rule.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "es_req_email.h"

/* the members of a rule after its id, in stored order */
enum {
    RULE_TOPIC = 0,
    RULE_ENABLED,
    RULE_MIN_VOLUME,
    RULE_SENSITIVITY,
    RULE_COOLDOWN,
    RULE_EMAIL,
    RULE_WEBHOOK,
    RULE_METRIC,
    RULE_WINDOW,
    RULE_NFIELDS
};

const char *const es_req_rule_members[] = {"id",          "topic",
                                           "enabled",     "min_volume",
                                           "sensitivity", "cooldown_minutes",
                                           "email",       "webhook",
                                           "metric",      "window_minutes",
                                           NULL};

const char *const es_req_rule_metrics[] = {ES_REQ_RULE_METRIC_DEFAULT, "volume",
                                           "mean_compound", NULL};

static json_t *es_req_rule_emails(json_t *v, int *oom);
static int es_req_webhook_valid(const char *s, size_t n);

int es_req_rule_check(json_t *src, json_t *base, const char *id, json_t **out,
                      es_req_err *err)
{
    const char *topic, *hook, *metric;
    json_int_t volume, cooldown, window;
    json_t *emails, *webhook;
    json_t *f[RULE_NFIELDS];
    double sensitivity;
    size_t i;
    int enabled, oom;

    *out = NULL;

    /* es_req_rule_members without "id": the same order as the enum */
    for (i = 0; i < RULE_NFIELDS; i++) {
        f[i] = json_object_get(src, es_req_rule_members[i + 1]);
        if (f[i] == NULL && base != NULL) {
            f[i] = json_object_get(base, es_req_rule_members[i + 1]);
        }
    }

    topic = json_string_value(f[RULE_TOPIC]);
    if (topic == NULL ||
        !es_req_id_valid(topic, json_string_length(f[RULE_TOPIC]))) {
        return es_req_fail(err, 422, "validation_failed", "topic", "%s",
                           f[RULE_TOPIC] ? "topic must be a topic id"
                                         : "topic is required");
    }

    enabled = 1;
    if (f[RULE_ENABLED] != NULL) {
        if (!json_is_boolean(f[RULE_ENABLED])) {
            return es_req_fail(err, 422, "validation_failed", "enabled",
                               "enabled must be true or false");
        }
        enabled = json_is_true(f[RULE_ENABLED]);
    }

    volume = 20;
    if (f[RULE_MIN_VOLUME] != NULL &&
        (es_req_json_int(f[RULE_MIN_VOLUME], &volume) != 0 || volume < 1 ||
         volume > 1000000)) {
        return es_req_fail(err, 422, "validation_failed", "min_volume",
                           "min_volume must be an integer from 1 to 1000000");
    }

    sensitivity = 3.0;
    if (f[RULE_SENSITIVITY] != NULL) {
        sensitivity = json_number_value(f[RULE_SENSITIVITY]);
        if (!json_is_number(f[RULE_SENSITIVITY]) || !isfinite(sensitivity) ||
            sensitivity < 0.5 || sensitivity > 20) {
            return es_req_fail(err, 422, "validation_failed", "sensitivity",
                               "sensitivity must be a number from 0.5 to 20");
        }
    }

    cooldown = 60;
    if (f[RULE_COOLDOWN] != NULL &&
        (es_req_json_int(f[RULE_COOLDOWN], &cooldown) != 0 || cooldown < 1 ||
         cooldown > 10080)) {
        return es_req_fail(err, 422, "validation_failed", "cooldown_minutes",
                           "cooldown_minutes must be an integer from 1 to "
                           "10080");
    }

    hook = NULL;
    if (f[RULE_WEBHOOK] != NULL && !json_is_null(f[RULE_WEBHOOK])) {
        hook = json_string_value(f[RULE_WEBHOOK]);
        if (hook == NULL ||
            !es_req_webhook_valid(hook, json_string_length(f[RULE_WEBHOOK]))) {
            return es_req_fail(err, 422, "validation_failed", "webhook",
                               "webhook must be null or an https:// URL of "
                               "at most 2048 characters (http:// only to "
                               "localhost)");
        }
    }

    metric = ES_REQ_RULE_METRIC_DEFAULT;
    if (f[RULE_METRIC] != NULL) {
        metric = json_string_value(f[RULE_METRIC]);
        for (i = 0; metric != NULL && es_req_rule_metrics[i] != NULL; i++) {
            if (json_string_length(f[RULE_METRIC]) ==
                    strlen(es_req_rule_metrics[i]) &&
                strcmp(metric, es_req_rule_metrics[i]) == 0) {
                break;
            }
        }
        if (metric == NULL || es_req_rule_metrics[i] == NULL) {
            return es_req_fail(err, 422, "validation_failed", "metric",
                               "metric must be \"negative_share\", "
                               "\"volume\" or \"mean_compound\"");
        }
        /* the table's copy: static, without the body's NULs or length */
        metric = es_req_rule_metrics[i];
    }

    window = ES_REQ_RULE_WINDOW_DEFAULT;
    if (f[RULE_WINDOW] != NULL &&
        (es_req_json_int(f[RULE_WINDOW], &window) != 0 ||
         window < ES_REQ_RULE_WINDOW_MIN || window > ES_REQ_RULE_WINDOW_MAX)) {
        return es_req_fail(err, 422, "validation_failed", "window_minutes",
                           "window_minutes must be an integer from 5 to 1440");
    }

    emails = es_req_rule_emails(f[RULE_EMAIL], &oom);
    if (emails == NULL) {
        if (oom) {
            return es_req_fail(err, 500, "internal", NULL, "out of memory");
        }
        return es_req_fail(err, 422, "validation_failed", "email",
                           "email must be an array of at most 10 e-mail "
                           "addresses");
    }

    webhook = hook ? json_string(hook) : json_null();

    /* steals emails and webhook, also when it fails */
    *out = json_pack("{s:s, s:s, s:b, s:I, s:f, s:I, s:o, s:o, s:s, s:I}", "id",
                     id, "topic", topic, "enabled", enabled, "min_volume",
                     volume, "sensitivity", sensitivity, "cooldown_minutes",
                     cooldown, "email", emails, "webhook", webhook, "metric",
                     metric, "window_minutes", window);
    if (*out == NULL) {
        return es_req_fail(err, 500, "internal", NULL, "out of memory");
    }

    return 0;
}

/*
 * The "email" member (borrowed; NULL = []) as a new array of lower-case,
 * de-duplicated addresses; NULL when invalid, or without memory (then
 * *oom is 1).
 */
static json_t *es_req_rule_emails(json_t *v, int *oom)
{
    char norm[ES_REQ_EMAIL_MAX + 1];
    json_t *list, *e;
    size_t i, j, len;

    *oom = 0;

    list = json_array();
    if (list == NULL) {
        *oom = 1;
        return NULL;
    }

    if (v == NULL) {
        return list;
    }

    if (!json_is_array(v) || json_array_size(v) > ES_REQ_RULE_EMAILS_MAX) {
        goto invalid;
    }

    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i); /* borrowed */
        if (!json_is_string(e)) {
            goto invalid;
        }

        len = es_req_email_normalize(json_string_value(e),
                                     json_string_length(e), norm);
        if (len == 0) {
            goto invalid;
        }

        for (j = 0; j < json_array_size(list); j++) {
            if (strcmp(json_string_value(json_array_get(list, j)), norm) == 0) {
                break;
            }
        }

        if (j == json_array_size(list) &&
            json_array_append_new(list, json_stringn(norm, len)) != 0) {
            *oom = 1;
            goto invalid;
        }
    }

    return list;

invalid:

    json_decref(list);
    return NULL;
}

static int es_req_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int es_req_is_alnum(char c)
{
    return es_req_is_digit(c) || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int es_req_is_xdigit(char c)
{
    return es_req_is_digit(c) || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/*
 * 1 when s[0..n) is a webhook URL the alert worker may post to: https://
 * to any host, or http:// to this machine only (a local receiver in
 * development and tests); printable ASCII, a host, an optional numeric
 * port, and no user-info, so "https://good@evil" cannot disguise a host.
 */
static int es_req_webhook_valid(const char *s, size_t n)
{
    const char *p, *end, *auth, *host_end, *q;
    size_t i;
    int https;

    if (n > ES_REQ_WEBHOOK_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
            return 0;
        }
    }

    if (n > 8 && strncasecmp(s, "https://", 8) == 0) {
        https = 1;
        p = s + 8;

    } else if (n > 7 && strncasecmp(s, "http://", 7) == 0) {
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

    if (auth == p || memchr(p, '@', (size_t)(auth - p)) != NULL) {
        return 0;
    }

    if (*p == '[') {
        /* an IPv6 literal */
        host_end = memchr(p, ']', (size_t)(auth - p));
        if (host_end == NULL || host_end == p + 1) {
            return 0;
        }
        for (q = p + 1; q < host_end; q++) {
            if (!(es_req_is_xdigit(*q) || *q == ':' || *q == '.')) {
                return 0;
            }
        }
        host_end++;

    } else {
        host_end = p;
        while (host_end < auth && *host_end != ':') {
            if (!(es_req_is_alnum(*host_end) || *host_end == '.' ||
                  *host_end == '-')) {
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
            if (!es_req_is_digit(*q)) {
                return 0;
            }
        }
    }

    if (!https && !(host_end - p == 9 && (strncasecmp(p, "localhost", 9) == 0 ||
                                          strncmp(p, "127.0.0.1", 9) == 0))) {
        return 0;
    }

    return 1;
}
