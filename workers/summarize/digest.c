/*
 * digest.c - queueing the daily digest e-mails (digest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "digest.h"
#include "digest_text.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_mime.h"
#include "es_time.h"
#include "es_unsub.h"
#include "localday.h"

#define MAX_ALERTS "50"

static const char *const weekdays[] = {"Thursday", "Friday", "Saturday",
                                       "Sunday",   "Monday", "Tuesday",
                                       "Wednesday"};
static const char *const months[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

/* what the digest of one day is made of, parsed from Redis */
typedef struct {
    json_t *summaries; /* the day's daily summaries, whole tenant first */
    es_digest_summary *sv;
    size_t ns;
    json_t *events;
    es_digest_alert *av;
    size_t na;
} day_t;

static long long num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(o, a), b);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static double real(json_t *o, const char *a, const char *b)
{
    return json_number_value(json_object_get(json_object_get(o, a), b));
}

/* Orders the whole tenant's summary first, then topics by title. */
static int cmp_summary(const void *x, const void *y)
{
    const es_digest_summary *a = x, *b = y;
    int wa = strcmp(a->title, "All topics") == 0,
        wb = strcmp(b->title, "All topics") == 0;

    return wa != wb ? wb - wa : strcmp(a->title, b->title);
}

static void day_free(day_t *d)
{
    json_decref(d->summaries);
    json_decref(d->events);
    free(d->sv);
    free(d->av);
    memset(d, 0, sizeof(*d));
}

/* The day's summaries (HGETALL reply) and alerts (XRANGE reply). */
static int day_parse(const redisReply *all, const redisReply *hist,
                     const char *date, day_t *d)
{
    memset(d, 0, sizeof(*d));
    d->summaries = json_array();
    d->events = json_array();
    if (d->summaries == NULL || d->events == NULL) {
        return -1;
    }
    for (size_t i = 1;
         all && all->type == REDIS_REPLY_ARRAY && i < all->elements; i += 2) {
        json_t *o =
            json_loadb(all->element[i]->str, all->element[i]->len, 0, NULL);
        const char *dt = json_string_value(json_object_get(o, "date"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (dt && kind && strcmp(dt, date) == 0 && strcmp(kind, "daily") == 0 &&
            json_is_string(json_object_get(o, "text"))) {
            json_array_append(d->summaries, o);
        }
        json_decref(o);
    }
    for (size_t i = 0;
         hist && hist->type == REDIS_REPLY_ARRAY && i < hist->elements; i++) {
        const redisReply *f = hist->element[i]->element[1];
        for (size_t k = 0;
             f && f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
            if (strcmp(f->element[k]->str, "event") == 0) {
                json_t *o = json_loadb(f->element[k + 1]->str,
                                       f->element[k + 1]->len, 0, NULL);
                if (json_is_object(o)) {
                    json_array_append(d->events, o);
                }
                json_decref(o);
            }
        }
    }
    d->ns = json_array_size(d->summaries);
    d->na = json_array_size(d->events);
    d->sv = calloc(d->ns + 1, sizeof(*d->sv));
    d->av = calloc(d->na + 1, sizeof(*d->av));
    if (d->sv == NULL || d->av == NULL) {
        return -1;
    }
    for (size_t i = 0; i < d->ns; i++) {
        json_t *o = json_array_get(d->summaries, i);
        const char *title = json_string_value(json_object_get(o, "title"));
        const char *topic = json_string_value(json_object_get(o, "topic"));
        d->sv[i].title = title ? title : topic ? topic : "All topics";
        if (json_is_null(json_object_get(o, "topic"))) {
            d->sv[i].title = "All topics";
        }
        d->sv[i].text = json_string_value(json_object_get(o, "text"));
        d->sv[i].source = json_string_value(json_object_get(o, "source"));
        d->sv[i].comments =
            num(json_object_get(o, "figures"), "now", "comments");
        d->sv[i].before =
            num(json_object_get(o, "figures"), "before", "comments");
        d->sv[i].negative =
            num(json_object_get(o, "figures"), "now", "negative");
        d->sv[i].positive =
            num(json_object_get(o, "figures"), "now", "positive");
        d->sv[i].mean =
            real(json_object_get(o, "figures"), "now", "mean_compound");
    }
    qsort(d->sv, d->ns, sizeof(*d->sv), cmp_summary);
    for (size_t i = 0; i < d->na; i++) {
        json_t *o = json_array_get(d->events, i);
        const char *fired = json_string_value(json_object_get(o, "fired"));
        const char *topic = json_string_value(json_object_get(o, "topic"));
        const char *metric = json_string_value(json_object_get(o, "metric"));
        d->av[i].fired = fired ? fired : "";
        d->av[i].topic = topic ? topic : "";
        d->av[i].metric = metric ? metric : "negative_share";
        d->av[i].observed = json_number_value(json_object_get(o, "observed"));
        d->av[i].mean = real(o, "baseline", "mean");
        d->av[i].stddev = real(o, "baseline", "stddev");
        d->av[i].volume =
            (long long)json_integer_value(json_object_get(o, "volume"));
    }
    return 0;
}

/* "digest-20261124-<16 hex of the sub's SHA-256>" */
static void delivery_id(const char *date, const char *sub, char *out,
                        size_t size)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[17];

    SHA256((const unsigned char *)sub, strlen(sub), md);
    for (int i = 0; i < 8; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    snprintf(out, size, "digest-%.4s%.2s%.2s-%s", date, date + 5, date + 8,
             hex);
}

/* Adds one member's digest delivery (es_delivery_add). 0 or -1. */
static int add_delivery(es_summarizer *s, const char *tenant, const char *date,
                        const char *sub, const char *email,
                        const es_digest_input *base)
{
    char keys[2][256], id[64], link[2048];
    es_digest_input in = *base;
    es_digest_mail m;
    json_t *rec;
    char *json;
    redisReply *rep;
    int rc = -1;

    if (s->unsub_len > 0 &&
        es_unsub_link(s->unsub_key, (size_t)s->unsub_len, s->base_url, tenant,
                      sub, "digest", link, sizeof(link)) == 0) {
        in.unsubscribe_url = link;
    }
    if (es_digest_compose(&in, &m) != 0) {
        return -1;
    }
    delivery_id(date, sub, id, sizeof(id));
    rec = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:i, s:I, s:s, s:s, "
                    "s:s}",
                    "id", id, "kind", "digest", "channel", "email", "to", email,
                    "ref", date, "status", "pending", "attempts", 0,
                    "created_ms", (json_int_t)es_now_ms(), "subject", m.subject,
                    "text", m.text, "html", m.html);
    es_digest_mail_free(&m);
    json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (json == NULL) {
        return -1;
    }
    es_tenant_key(keys[0], sizeof(keys[0]), tenant, ES_TK_DELIVERIES);
    snprintf(keys[1], sizeof(keys[1]), "%s", ES_KEY_DELIVER_QUEUE);
    rep = es_redis_cmd(s->r, "FCALL es_delivery_add 2 %s %s %s %s %s", keys[0],
                       keys[1], tenant, id, json);
    free(json);
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "digest delivery refused", ES_STR("tenant", tenant),
               ES_STR("error", rep->str), ES_END);
    } else {
        rc = 0;
        s->digests += rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    }
    freeReplyObject(rep);
    return rc;
}

int es_sum_digest_tick(es_summarizer *s, const char *tenant, const char *tz,
                       const char *sched, const char *digest_sched)
{
    char k_sum[256], k_mem[256], k_hist[256], k_dig[256], sid[16], lo[32],
        hi[32], label[160];
    redisReply *rep[3] = {NULL, NULL, NULL}, *exists;
    es_sum_date date;
    long long a, b;
    day_t d;
    es_digest_input in;
    int rc = -1, queued = 0;

    if (sched == NULL || es_sum_date_parse(sched, &date) != 0 ||
        (digest_sched && strcmp(digest_sched, sched) >= 0)) {
        return 0;
    }
    es_tenant_key(k_sum, sizeof(k_sum), tenant, ES_TK_SUMMARIES);
    snprintf(sid, sizeof(sid), "d%.4s%.2s%.2s", sched, sched + 5, sched + 8);
    exists = es_redis_cmd(s->r, "HEXISTS %s %s", k_sum, sid);
    if (exists == NULL) {
        return -1;
    }
    if (exists->type != REDIS_REPLY_INTEGER || exists->integer != 1) {
        freeReplyObject(exists);
        return 0; /* the day's last summary is not written yet */
    }
    freeReplyObject(exists);
    if (es_sum_day_bounds(tz, date, &a, &b) != 0) {
        return 0;
    }
    es_tenant_key(k_mem, sizeof(k_mem), tenant, ES_TK_MEMBERS);
    es_tenant_key(k_hist, sizeof(k_hist), tenant, ES_TK_ALERT_HISTORY);
    es_tenant_key(k_dig, sizeof(k_dig), tenant, ES_TK_DIGEST_SCHED);
    snprintf(lo, sizeof(lo), "%lld", a * 1000);
    snprintf(hi, sizeof(hi), "%lld", b * 1000 - 1);
    {
        const char *a0[] = {"HGETALL", k_sum};
        const char *a1[] = {"HVALS", k_mem};
        const char *a2[] = {"XRANGE", k_hist, lo, hi, "COUNT", MAX_ALERTS};
        es_redis_cmdv cmds[3] = {{2, a0, NULL}, {2, a1, NULL}, {6, a2, NULL}};
        if (es_redis_pipeline(s->r, cmds, 3, rep) != 0) {
            return -1;
        }
    }
    if (day_parse(rep[0], rep[2], sched, &d) != 0) {
        goto done;
    }
    {
        long long days =
            es_time_days_from_civil(date.y, (unsigned)date.m, (unsigned)date.d);
        snprintf(label, sizeof(label), "%s %d %s %d (%s)",
                 weekdays[((days % 7) + 7) % 7], date.d, months[date.m - 1],
                 date.y, tz);
    }
    memset(&in, 0, sizeof(in));
    in.day = label;
    in.base_url = s->base_url;
    in.summaries = d.sv;
    in.nsummaries = d.ns;
    in.alerts = d.av;
    in.nalerts = d.na;
    rc = 0;
    for (size_t i = 0; rep[1] && rep[1]->type == REDIS_REPLY_ARRAY &&
                       i < rep[1]->elements && rc == 0;
         i++) {
        json_t *m = json_loadb(rep[1]->element[i]->str, rep[1]->element[i]->len,
                               0, NULL);
        const char *sub = json_string_value(json_object_get(m, "sub"));
        const char *email = json_string_value(json_object_get(m, "email"));
        if (sub && email && json_is_true(json_object_get(m, "digest")) &&
            es_mime_addr_valid(email)) {
            rc = add_delivery(s, tenant, sched, sub, email, &in);
            queued++;
        }
        json_decref(m);
    }
    if (rc == 0) {
        redisReply *set = es_redis_cmd(s->r, "SET %s %s", k_dig, sched);
        rc = set ? 0 : -1;
        freeReplyObject(set);
        if (queued) {
            es_log(ES_INFO, "digests queued", ES_STR("tenant", tenant),
                   ES_STR("date", sched), ES_INT("members", queued),
                   ES_INT("alerts", (long long)d.na), ES_END);
        }
    }

done:
    day_free(&d);
    for (int i = 0; i < 3; i++) {
        freeReplyObject(rep[i]);
    }
    return rc;
}
