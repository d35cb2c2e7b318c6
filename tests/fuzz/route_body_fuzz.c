/*
 * route_body_fuzz.c - a raw request body through every check the routes
 * of /api/v1 make on JSON bodies (lib/es_req*.c), as the module runs
 * them: es_req_body_parse, then each route's own sequence of checks.
 *
 *   topic   POST/PUT: members, body id, es_req_topic_check; PATCH: the
 *           same merged over a fixed stored topic
 *   rule    POST/PUT/PATCH as for topics (without and with a base); and
 *           the body as a rule read back from Redis
 *   others  PATCH /settings (fixed budget caps, the machine's zone
 *           files), PATCH /me, POST /members (invite),
 *           POST /invites/{id}/accept, POST /summaries; the bytes also as
 *           the query string of GET /summaries (its limit) and as the
 *           one-click body of POST /unsubscribe
 *
 * Invariants: a refused input has status 400 or 422 (500 only for memory,
 * as "internal"), a code of the API's error enum, a non-empty valid UTF-8
 * message, a field on every 422 (but for an unknown member named ""),
 * and a query error's position and column
 * inside the query. An accepted one lies within the documented ranges,
 * and its canonical form (topic, rule) checked again gives the very same
 * canonical form, byte for byte. Nothing leaks (ASan's leak checker).
 */
#include <math.h>

#include "es_ids.h"
#include "es_req.h"
#include "es_req_email.h"
#include "es_req_invite.h"
#include "es_req_me.h"
#include "es_req_rule.h"
#include "es_req_settings.h"
#include "es_req_summary.h"
#include "es_req_topic.h"
#include "es_req_tz.h"
#include "es_req_unsub.h"
#include "es_utf8.h"
#include "fuzz.h"

#define FUZZ_BUDGET_MAX 1000

static const char stored_topic[] =
    "{\"id\":\"t1\",\"name\":\"Rust async\",\"subreddits\":[\"rust\","
    "\"golang\"],\"query\":\"(tokio OR \\\"async-std\\\") -java\"}";
static const char stored_rule[] =
    "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,\"min_volume\":20,"
    "\"sensitivity\":3.0,\"cooldown_minutes\":60,\"email\":[\"ops@a.test\"],"
    "\"webhook\":\"https://hooks.example.com/x\"}";

/* The error shape every refusal must have. */
static void check_err(const es_req_err *err)
{
    static const char *const codes[] = {"bad_request",
                                        "invalid_json",
                                        "unauthorized",
                                        "forbidden",
                                        "no_tenant",
                                        "no_email",
                                        "email_not_verified",
                                        "invalid_signature",
                                        "not_found",
                                        "method_not_allowed",
                                        "conflict",
                                        "confirm_required",
                                        "invite_expired",
                                        "payload_too_large",
                                        "unsupported_media_type",
                                        "invalid_topic",
                                        "invalid_query",
                                        "validation_failed",
                                        "rate_limited",
                                        "internal",
                                        "unavailable",
                                        NULL};
    size_t i;

    ES_FUZZ_CHECK(err->code != NULL);
    for (i = 0; codes[i] != NULL; i++) {
        if (strcmp(err->code, codes[i]) == 0) {
            break;
        }
    }
    ES_FUZZ_CHECK(codes[i] != NULL);

    ES_FUZZ_CHECK(err->status == 400 || err->status == 422 ||
                  err->status == 500);
    if (err->status == 500) {
        ES_FUZZ_CHECK(strcmp(err->code, "internal") == 0);
        ES_FUZZ_CHECK(strcmp(err->message, "out of memory") == 0);
    }
    /* a 422 names its member; a member named "" cannot be named, and
       es_req_members then leaves the field out */
    if (err->status == 422) {
        ES_FUZZ_CHECK(err->field[0] != '\0' ||
                      strcmp(err->message, "unknown member \"\"") == 0);
    }

    ES_FUZZ_CHECK(err->message[0] != '\0');
    ES_FUZZ_CHECK(es_utf8_valid(err->message, strlen(err->message)));
    ES_FUZZ_CHECK(es_utf8_valid(err->field, strlen(err->field)));
}

/* A parsed fixed text (a stored value). */
static json_t *fixed(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    ES_FUZZ_CHECK(v != NULL);
    return v;
}

/*
 * The members and id checks that start a POST/PUT/PATCH of an object
 * with an id (ngx_http_echostream_write_id): 0 with the id in id (a fixed
 * one where the module would make one up), or -1.
 */
static int write_id(json_t *body, const char *const *allowed,
                    const char *path_id, char *id)
{
    es_req_err err;

    if (es_req_members(body, allowed, &err) != 0 ||
        es_req_body_id(body, path_id, id, &err) != 0) {
        check_err(&err);
        ES_FUZZ_CHECK(err.status == 400 || err.status == 422);
        return -1;
    }

    ES_FUZZ_CHECK(id[0] == '\0' || es_req_id_valid(id, strlen(id)));
    ES_FUZZ_CHECK(path_id == NULL || strcmp(id, path_id) == 0);
    if (id[0] == '\0') {
        strcpy(id, "generated000");
    }
    return 0;
}

/* A topic check of body (over base), and its canonical form's fixpoint. */
static void topic(json_t *body, json_t *base, const char *path_id)
{
    char id[ES_REQ_ID_MAX + 1], norm[ES_REQ_SUB_SIZE];
    es_req_topic t, again;
    es_req_err err;
    json_t *back;
    size_t i, j;

    if (write_id(body, es_req_topic_members, path_id, id) != 0) {
        return;
    }

    if (es_req_topic_check(body, base, id, &t, &err) != 0) {
        check_err(&err);
        ES_FUZZ_CHECK(t.topic == NULL && t.json == NULL);
        if (strcmp(err.code, "invalid_query") == 0) {
            ES_FUZZ_CHECK(strcmp(err.field, "query") == 0);
            ES_FUZZ_CHECK(err.position >= 0 && err.column >= 1);
            ES_FUZZ_CHECK(err.column <= err.position + 1);
        } else {
            ES_FUZZ_CHECK(err.position == -1 && err.column == -1);
        }
        return;
    }

    /* the ranges of the contract */
    ES_FUZZ_CHECK(t.nsubs >= 1 && t.nsubs <= ES_REQ_TOPIC_SUBS_MAX);
    for (i = 0; i < t.nsubs; i++) {
        ES_FUZZ_CHECK(
            es_subreddit_normalize(t.subs[i], strlen(t.subs[i]), norm) == 0);
        ES_FUZZ_CHECK(strcmp(norm, t.subs[i]) == 0);
        for (j = 0; j < i; j++) {
            ES_FUZZ_CHECK(strcmp(t.subs[i], t.subs[j]) != 0);
        }
    }
    ES_FUZZ_CHECK(json_array_size(json_object_get(t.topic, "subreddits")) ==
                  t.nsubs);
    ES_FUZZ_CHECK(
        strcmp(json_string_value(json_object_get(t.topic, "id")), id) == 0);
    ES_FUZZ_CHECK(t.json_len == strlen(t.json));
    ES_FUZZ_CHECK(es_utf8_valid(t.json, t.json_len));

    /* the stored text is the topic */
    back = json_loads(t.json, JSON_REJECT_DUPLICATES, NULL);
    ES_FUZZ_CHECK(back != NULL && json_equal(back, t.topic));
    json_decref(back);

    /* the canonical form is a fixpoint, as a body and as a stored value */
    ES_FUZZ_CHECK(write_id(t.topic, es_req_topic_members, id, id) == 0);
    ES_FUZZ_CHECK(es_req_topic_check(t.topic, NULL, id, &again, &err) == 0);
    ES_FUZZ_CHECK(strcmp(again.json, t.json) == 0);
    ES_FUZZ_CHECK(again.nsubs == t.nsubs);
    for (i = 0; i < t.nsubs; i++) {
        ES_FUZZ_CHECK(strcmp(again.subs[i], t.subs[i]) == 0);
    }
    es_req_topic_free(&again);

    es_req_topic_free(&t);
}

static char *rule_text(json_t *rule)
{
    char *s = json_dumps(rule, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                   JSON_REAL_PRECISION(17));

    ES_FUZZ_CHECK(s != NULL);
    return s;
}

/* The ranges every accepted rule is in. */
static void rule_ranges(json_t *rule)
{
    char norm[ES_REQ_EMAIL_MAX + 1];
    json_t *emails, *hook, *e;
    double sensitivity;
    json_int_t n;
    size_t i;

    ES_FUZZ_CHECK(json_object_size(rule) == 10);
    ES_FUZZ_CHECK(json_is_boolean(json_object_get(rule, "enabled")));

    n = json_integer_value(json_object_get(rule, "min_volume"));
    ES_FUZZ_CHECK(json_is_integer(json_object_get(rule, "min_volume")));
    ES_FUZZ_CHECK(n >= 1 && n <= 1000000);
    n = json_integer_value(json_object_get(rule, "cooldown_minutes"));
    ES_FUZZ_CHECK(json_is_integer(json_object_get(rule, "cooldown_minutes")));
    ES_FUZZ_CHECK(n >= 1 && n <= 10080);

    ES_FUZZ_CHECK(json_is_real(json_object_get(rule, "sensitivity")));
    sensitivity = json_real_value(json_object_get(rule, "sensitivity"));
    ES_FUZZ_CHECK(isfinite(sensitivity));
    ES_FUZZ_CHECK(sensitivity >= 0.5 && sensitivity <= 20);

    emails = json_object_get(rule, "email");
    ES_FUZZ_CHECK(json_is_array(emails));
    ES_FUZZ_CHECK(json_array_size(emails) <= ES_REQ_RULE_EMAILS_MAX);
    json_array_foreach(emails, i, e)
    {
        ES_FUZZ_CHECK(es_req_email_normalize(json_string_value(e),
                                             json_string_length(e),
                                             norm) == json_string_length(e));
        ES_FUZZ_CHECK(strcmp(norm, json_string_value(e)) == 0);
    }

    hook = json_object_get(rule, "webhook");
    ES_FUZZ_CHECK(json_is_null(hook) ||
                  (json_is_string(hook) &&
                   json_string_length(hook) <= ES_REQ_WEBHOOK_MAX));

    e = json_object_get(rule, "topic");
    ES_FUZZ_CHECK(es_req_id_valid(json_string_value(e), json_string_length(e)));

    e = json_object_get(rule, "metric");
    ES_FUZZ_CHECK(json_is_string(e));
    for (i = 0; es_req_rule_metrics[i] != NULL; i++) {
        if (strcmp(json_string_value(e), es_req_rule_metrics[i]) == 0) {
            break;
        }
    }
    ES_FUZZ_CHECK(es_req_rule_metrics[i] != NULL);
    n = json_integer_value(json_object_get(rule, "window_minutes"));
    ES_FUZZ_CHECK(json_is_integer(json_object_get(rule, "window_minutes")));
    ES_FUZZ_CHECK(n >= ES_REQ_RULE_WINDOW_MIN && n <= ES_REQ_RULE_WINDOW_MAX);
}

/* A rule check of body (over base), and its canonical form's fixpoint. */
static void rule(json_t *body, json_t *base, const char *path_id)
{
    char id[ES_REQ_ID_MAX + 1], *a, *b;
    json_t *out, *again;
    es_req_err err;

    if (write_id(body, es_req_rule_members, path_id, id) != 0) {
        return;
    }

    if (es_req_rule_check(body, base, id, &out, &err) != 0) {
        check_err(&err);
        ES_FUZZ_CHECK(out == NULL);
        ES_FUZZ_CHECK(err.position == -1 && err.column == -1);
        return;
    }

    rule_ranges(out);

    ES_FUZZ_CHECK(write_id(out, es_req_rule_members, id, id) == 0);
    ES_FUZZ_CHECK(es_req_rule_check(out, NULL, id, &again, &err) == 0);
    a = rule_text(out);
    b = rule_text(again);
    ES_FUZZ_CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
    json_decref(again);
    json_decref(out);
}

/* The body as a rule read back from Redis: no member check, a fixed id. */
static void stored(json_t *body)
{
    es_req_err err;
    json_t *out;

    if (es_req_rule_check(body, NULL, "r1", &out, &err) != 0) {
        check_err(&err);
        return;
    }
    rule_ranges(out);
    json_decref(out);
}

/* a budget as stored: "" (cleared), or decimal dollars up to max */
static void budget_text(const char *text, long max)
{
    double usd;
    char *end;

    if (text[0] == '\0') {
        return;
    }
    usd = strtod(text, &end);
    ES_FUZZ_CHECK(*end == '\0' && usd >= 0 && usd <= max);
    /* what the workers read: no trailing zeros, at most 6 decimals */
    end = strchr(text, '.');
    ES_FUZZ_CHECK(end == NULL ||
                  (strlen(end) <= 7 && text[strlen(text) - 1] != '0'));
}

static void settings(json_t *body)
{
    es_req_settings_limits lim = {FUZZ_BUDGET_MAX, FUZZ_BUDGET_MAX / 10,
                                  ES_REQ_ZONEINFO};
    es_req_settings s;
    es_req_err err;
    char *end;
    long days, hour;

    if (es_req_settings_check(body, &lim, &s, &err) != 0) {
        check_err(&err);
        return;
    }

    ES_FUZZ_CHECK(s.engine == NULL || strcmp(s.engine, "vader") == 0 ||
                  strcmp(s.engine, "comprehend") == 0);
    if (s.has_budget) {
        budget_text(s.budget, lim.comprehend_budget_max);
    }
    if (s.has_bedrock) {
        budget_text(s.bedrock, lim.bedrock_budget_max);
    }
    if (s.has_days) {
        days = strtol(s.days, &end, 10);
        ES_FUZZ_CHECK(*end == '\0' && days >= 1 &&
                      days <= ES_REQ_RETENTION_MAX);
    }
    if (s.has_hour) {
        hour = strtol(s.hour, &end, 10);
        ES_FUZZ_CHECK(*end == '\0' && hour >= 0 && hour <= 23);
    }
    if (s.has_zone) {
        /* a name of the pattern, never a way out of the directory */
        ES_FUZZ_CHECK(es_req_time_zone_name(s.zone, strlen(s.zone)));
        ES_FUZZ_CHECK(strchr(s.zone, '.') == NULL && s.zone[0] != '/');
        ES_FUZZ_CHECK(
            es_req_time_zone_valid(ES_REQ_ZONEINFO, s.zone, strlen(s.zone)));
    }
}

static void me(json_t *body)
{
    es_req_err err;
    es_req_me m;

    if (es_req_me_check(body, &m, &err) != 0) {
        check_err(&err);
        return;
    }
    ES_FUZZ_CHECK(m.digest >= -1 && m.digest <= 1);
    ES_FUZZ_CHECK(m.alert_email >= -1 && m.alert_email <= 1);
    ES_FUZZ_CHECK(m.digest >= 0 || m.alert_email >= 0);
}

/* The bytes as POST /unsubscribe's body: refused only as documented. */
static void unsub_body(const char *text, size_t size)
{
    static const char form[] = "application/x-www-form-urlencoded";
    es_req_err err;

    if (es_req_unsub_body(form, sizeof(form) - 1, text, size, &err) != 0) {
        ES_FUZZ_CHECK(err.status == 400);
        ES_FUZZ_CHECK(strcmp(err.code, "bad_request") == 0);
        ES_FUZZ_CHECK(es_utf8_valid(err.message, strlen(err.message)));
    } else {
        ES_FUZZ_CHECK(size == 0 ||
                      memmem(text, size, "List-Unsubscribe=One-Click", 26));
    }
    if (es_req_unsub_body(NULL, 0, text, size, &err) != 0) {
        ES_FUZZ_CHECK(size > 0 && err.status == 415);
    }
}

static void invites(json_t *body)
{
    char norm[ES_REQ_EMAIL_MAX + 1];
    es_req_invite in;
    es_req_err err;
    int confirm;

    if (es_req_invite_check(body, &in, &err) != 0) {
        check_err(&err);
    } else {
        ES_FUZZ_CHECK(in.email_len > 0 && in.email_len <= ES_REQ_EMAIL_MAX);
        ES_FUZZ_CHECK(strlen(in.email) == in.email_len);
        ES_FUZZ_CHECK(es_req_email_normalize(in.email, in.email_len, norm) ==
                      in.email_len);
        ES_FUZZ_CHECK(strcmp(norm, in.email) == 0);
        ES_FUZZ_CHECK(strcmp(in.role, "member") == 0 ||
                      strcmp(in.role, "owner") == 0);
    }

    confirm = -1;
    if (es_req_accept_check(body, &confirm, &err) != 0) {
        check_err(&err);
    }
    ES_FUZZ_CHECK(confirm == 0 || confirm == 1);
}

static void summaries(json_t *body)
{
    char topic[ES_REQ_ID_MAX + 1];
    es_req_err err;

    if (es_req_summary_check(body, topic, &err) != 0) {
        check_err(&err);
        return;
    }
    ES_FUZZ_CHECK(topic[0] == '\0' || es_req_id_valid(topic, strlen(topic)));
}

static void ids(json_t *body)
{
    char id[ES_REQ_ID_MAX + 1];
    es_req_err err;

    if (es_req_body_id(body, NULL, id, &err) != 0) {
        check_err(&err);
    } else {
        ES_FUZZ_CHECK(id[0] == '\0' || es_req_id_valid(id, strlen(id)));
    }
    if (es_req_body_id(body, "t1", id, &err) != 0) {
        check_err(&err);
    } else {
        ES_FUZZ_CHECK(strcmp(id, "t1") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body, *base_topic, *base_rule;
    es_req_err err;
    char *text;
    int limit;

    text = es_fuzz_copy(data, size, 0);

    unsub_body(text, size);

    /* the same bytes as the query string of GET /summaries */
    limit = -1;
    if (es_req_summary_limit(text, size, &limit, &err) != 0) {
        check_err(&err);
        ES_FUZZ_CHECK(err.status == 400 && strcmp(err.field, "limit") == 0);
    } else {
        ES_FUZZ_CHECK(limit >= 1 && limit <= ES_REQ_SUMMARIES_MAX);
    }

    if (es_req_body_parse(text, size, &body, &err) != 0) {
        check_err(&err);
        ES_FUZZ_CHECK(body == NULL);
        ES_FUZZ_CHECK(err.status == 400 || err.status == 500);
        ES_FUZZ_CHECK(err.position <= (long)size);
        free(text);
        return 0;
    }

    base_topic = fixed(stored_topic);
    base_rule = fixed(stored_rule);

    topic(body, NULL, NULL);       /* POST /topics */
    topic(body, NULL, "t1");       /* PUT /topics/t1 */
    topic(body, base_topic, "t1"); /* PATCH /topics/t1 */

    rule(body, NULL, NULL);      /* POST /alerts/rules */
    rule(body, NULL, "r1");      /* PUT */
    rule(body, base_rule, "r1"); /* PATCH */
    stored(body);

    settings(body);
    me(body);
    invites(body);
    summaries(body);
    ids(body);

    json_decref(base_topic);
    json_decref(base_rule);
    json_decref(body);
    free(text);
    return 0;
}
