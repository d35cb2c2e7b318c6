/*
 * job.c - one summary request, from the stream to a stored summary (job.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_req_tz.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_schema.h"
#include "es_time.h"
#include "extract.h"
#include "job.h"
#include "localday.h"
#include "prompt.h"

#define KEEP_REQUESTS  "100"
#define DEFAULT_BUDGET ES_BEDROCK_BUDGET_DEFAULT_USD

typedef struct {
    const char *entry_id;
    char tenant[72], id[72], topic[72], kind[16], date[16];
} job_t;

/* what the tenant's settings and topics say for this job */
typedef struct {
    char tz[128];
    long long retention_days;
    double budget_usd;
    es_sum_topic_ref *topics; /* names and ids borrow from json */
    size_t ntopics;
    json_t *json; /* the topics' parsed JSON, owning the strings */
    char title[160];
} tenant_t;

int es_sum_id_ok(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return n >= 1 && n <= 64;
}

static void field_copy(char *dst, size_t size, const redisReply *v)
{
    size_t n = 0;

    if (v && v->type == REDIS_REPLY_STRING) {
        n = v->len < size - 1 ? v->len : size - 1;
        memcpy(dst, v->str, n);
    }
    dst[n] = '\0';
}

/* Fills j from the entry; 0 when it names a valid request. */
static int parse(const redisReply *entry, job_t *j)
{
    const redisReply *f;
    es_sum_date d;

    memset(j, 0, sizeof(*j));
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING) {
        return -1;
    }
    j->entry_id = entry->element[0]->str;
    f = entry->element[1];
    if (f->type != REDIS_REPLY_ARRAY) {
        return -1; /* trimmed while pending */
    }
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const char *k =
            f->element[i]->type == REDIS_REPLY_STRING ? f->element[i]->str : "";
        const redisReply *v = f->element[i + 1];
        if (strcmp(k, "tenant") == 0) {
            field_copy(j->tenant, sizeof(j->tenant), v);
        } else if (strcmp(k, "id") == 0) {
            field_copy(j->id, sizeof(j->id), v);
        } else if (strcmp(k, "topic") == 0) {
            field_copy(j->topic, sizeof(j->topic), v);
        } else if (strcmp(k, "kind") == 0) {
            field_copy(j->kind, sizeof(j->kind), v);
        } else if (strcmp(k, "date") == 0) {
            field_copy(j->date, sizeof(j->date), v);
        }
    }
    if (j->kind[0] == '\0') {
        strcpy(j->kind, "request");
    }
    if (es_tenant_id_valid(j->tenant, strlen(j->tenant)) != 0 ||
        !es_sum_id_ok(j->id) || (j->topic[0] && !es_sum_id_ok(j->topic))) {
        return -1;
    }
    if (strcmp(j->kind, "daily") == 0) {
        return es_sum_date_parse(j->date, &d);
    }
    return strcmp(j->kind, "request") == 0 ? 0 : -1;
}

static int fcall_status(es_summarizer *s, redisReply *rep, const char *what)
{
    int rc = 0;

    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "summary function failed", ES_STR("call", what),
               ES_STR("error", rep->str), ES_END);
        rc = -1;
    }
    (void)s;
    freeReplyObject(rep);
    return rc;
}

static int ack_invalid(es_summarizer *s, const redisReply *entry)
{
    const char *id = entry->type == REDIS_REPLY_ARRAY && entry->elements > 0 &&
                             entry->element[0]->type == REDIS_REPLY_STRING
                         ? entry->element[0]->str
                         : NULL;

    es_log(ES_WARN, "summary request ignored: invalid entry",
           ES_STR("entry", id ? id : "?"), ES_END);
    if (id == NULL) {
        return 0;
    }
    return fcall_status(s,
                        es_redis_cmd(s->r, "FCALL es_summary_ack 1 %s %s %s",
                                     ES_KEY_SUMMARY_REQUESTS, s->group, id),
                        "es_summary_ack");
}

static void now_iso(char *buf)
{
    es_time_str(es_now_ms(), buf);
}

/* 0 OK, 1 busy, 2 already ended, -1 Redis failed */
static int start(es_summarizer *s, const job_t *j)
{
    char reqs[256], lock[256], now[32], started[ES_TIME_STR_SIZE], stale[32];
    redisReply *rep;
    int rc = -1;

    es_tenant_key(reqs, sizeof(reqs), j->tenant, ES_TK_SUMMARY_REQUESTS);
    es_tenant_key(lock, sizeof(lock), j->tenant, ES_TK_SUMMARY_LOCK);
    snprintf(now, sizeof(now), "%lld", es_now_ms());
    snprintf(stale, sizeof(stale), "%lld",
             s->heartbeat_ms * 3 > 5000 ? s->heartbeat_ms * 3 : 5000);
    now_iso(started);
    rep = es_redis_cmd(s->r, "FCALL es_summary_start 3 %s %s %s %s %s %s %s %s",
                       reqs, lock, ES_KEY_WORKERS, j->id, s->w.instance, now,
                       stale, started);
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) {
        rc = strcmp(rep->str, "OK") == 0      ? 0
             : strcmp(rep->str, "BUSY") == 0  ? 1
             : strcmp(rep->str, "ENDED") == 0 ? 2
                                              : -1;
    } else if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "summary function failed",
               ES_STR("call", "es_summary_start"), ES_STR("error", rep->str),
               ES_END);
    }
    freeReplyObject(rep);
    return rc;
}

static int fail(es_summarizer *s, const job_t *j, const char *reason)
{
    char reqs[256], pend[256], lock[256], now[ES_TIME_STR_SIZE];

    es_tenant_key(reqs, sizeof(reqs), j->tenant, ES_TK_SUMMARY_REQUESTS);
    es_tenant_key(pend, sizeof(pend), j->tenant, ES_TK_SUMMARY_PENDING);
    es_tenant_key(lock, sizeof(lock), j->tenant, ES_TK_SUMMARY_LOCK);
    now_iso(now);
    s->failed++;
    es_metrics_add("echostream_summaries_failed_total", 1);
    es_log(ES_WARN, "summary failed", ES_STR("tenant", j->tenant),
           ES_STR("request", j->id), ES_STR("reason", reason), ES_END);
    return fcall_status(
        s,
        es_redis_cmd(s->r,
                     "FCALL es_summary_fail 4 %s %s %s %s %s %s %s %s %s %s %s",
                     reqs, pend, lock, ES_KEY_SUMMARY_REQUESTS, j->id,
                     j->topic[0] ? j->topic : "*", reason, now, s->w.instance,
                     s->group, j->entry_id),
        "es_summary_fail");
}

static int cmp_topic(const void *a, const void *b)
{
    return strcmp(((const es_sum_topic_ref *)a)->id,
                  ((const es_sum_topic_ref *)b)->id);
}

/* Settings and topics of the job's tenant. 0, 1 (topic gone), -1. */
static int load_tenant(es_summarizer *s, const job_t *j, tenant_t *t)
{
    char meta[256], topics[256];
    redisReply *rep[2] = {NULL, NULL};
    const char *a0[] = {"HMGET", meta, "retention_days", "bedrock_budget_usd",
                        "time_zone"};
    const char *a1[] = {"HGETALL", topics};
    size_t l0[5], l1[2];
    es_redis_cmdv cmds[2] = {{5, a0, l0}, {2, a1, l1}};
    const redisReply *m, *all;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    es_tenant_key(meta, sizeof(meta), j->tenant, ES_TK_META);
    es_tenant_key(topics, sizeof(topics), j->tenant, ES_TK_TOPICS);
    for (int i = 0; i < 5; i++) {
        l0[i] = strlen(a0[i]);
    }
    l1[0] = strlen(a1[0]);
    l1[1] = strlen(a1[1]);
    if (es_redis_pipeline(s->r, cmds, 2, rep) != 0) {
        return -1;
    }
    m = rep[0];
    all = rep[1];
    t->retention_days = 30;
    t->budget_usd = DEFAULT_BUDGET;
    strcpy(t->tz, "UTC");
    if (m && m->type == REDIS_REPLY_ARRAY && m->elements == 3) {
        if (m->element[0]->type == REDIS_REPLY_STRING) {
            long long d = strtoll(m->element[0]->str, NULL, 10);
            t->retention_days = d >= 1 && d <= 3650 ? d : 30;
        }
        if (m->element[1]->type == REDIS_REPLY_STRING) {
            double b = strtod(m->element[1]->str, NULL);
            t->budget_usd = isfinite(b) && b >= 0 ? b : DEFAULT_BUDGET;
        }
        if (m->element[2]->type == REDIS_REPLY_STRING &&
            es_req_time_zone_valid(ES_REQ_ZONEINFO, m->element[2]->str,
                                   strlen(m->element[2]->str))) {
            snprintf(t->tz, sizeof(t->tz), "%s", m->element[2]->str);
        }
    }
    t->json = json_array();
    t->topics = calloc(
        all && all->type == REDIS_REPLY_ARRAY ? all->elements / 2 + 1 : 1,
        sizeof(*t->topics));
    if (t->json == NULL || t->topics == NULL) {
        goto done;
    }
    for (size_t i = 0;
         all && all->type == REDIS_REPLY_ARRAY && i + 1 < all->elements;
         i += 2) {
        const redisReply *k = all->element[i], *v = all->element[i + 1];
        json_t *o;
        if (k->type != REDIS_REPLY_STRING || !es_sum_id_ok(k->str) ||
            (j->topic[0] && strcmp(k->str, j->topic) != 0)) {
            continue;
        }
        o = v->type == REDIS_REPLY_STRING ? json_loadb(v->str, v->len, 0, NULL)
                                          : NULL;
        if (!json_is_object(o)) {
            o = json_object();
        }
        json_object_set_new(o, "_id", json_string(k->str));
        json_array_append_new(t->json, o);
        t->topics[t->ntopics].id = json_string_value(json_object_get(o, "_id"));
        t->topics[t->ntopics].name =
            json_string_value(json_object_get(o, "name"));
        t->ntopics++;
    }
    qsort(t->topics, t->ntopics, sizeof(*t->topics), cmp_topic);
    if (j->topic[0] && t->ntopics == 0) {
        rc = 1;
        goto done;
    }
    snprintf(t->title, sizeof(t->title), "%s",
             j->topic[0] ? (t->topics[0].name && t->topics[0].name[0]
                                ? t->topics[0].name
                                : t->topics[0].id)
                         : "All topics");
    rc = 0;

done:
    freeReplyObject(rep[0]);
    freeReplyObject(rep[1]);
    return rc;
}

static void tenant_free(tenant_t *t)
{
    free(t->topics);
    json_decref(t->json);
    memset(t, 0, sizeof(*t));
}

static const char *const weekdays[] = {"Thursday", "Friday", "Saturday",
                                       "Sunday",   "Monday", "Tuesday",
                                       "Wednesday"};
static const char *const months[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

/* the job's period, how the brief names it, and the summary's date */
typedef struct {
    long long start_s, end_s;
    char label[160], before[64];
    es_sum_date date;
} period_t;

static int period_of(const job_t *j, const tenant_t *t, long long now_s,
                     period_t *p)
{
    memset(p, 0, sizeof(*p));
    if (strcmp(j->kind, "daily") == 0) {
        long long days;
        if (es_sum_date_parse(j->date, &p->date) != 0 ||
            es_sum_day_bounds(t->tz, p->date, &p->start_s, &p->end_s) != 0) {
            return -1;
        }
        days = es_time_days_from_civil(p->date.y, (unsigned)p->date.m,
                                       (unsigned)p->date.d);
        snprintf(p->label, sizeof(p->label), "%s %d %s %d (%s)",
                 weekdays[((days % 7) + 7) % 7], p->date.d,
                 months[p->date.m - 1], p->date.y, t->tz);
        snprintf(p->before, sizeof(p->before), "the day before");
        return 0;
    }
    p->end_s = now_s - now_s % 60;
    p->start_s = p->end_s - 86400;
    if (es_sum_local_now(t->tz, p->end_s, &p->date, NULL) != 0) {
        return -1;
    }
    {
        char at[ES_TIME_STR_SIZE];
        es_time_str(p->end_s * 1000, at);
        snprintf(p->label, sizeof(p->label), "the 24 hours to %.10s %.5s UTC",
                 at, at + 11);
    }
    snprintf(p->before, sizeof(p->before), "the 24 hours before");
    return 0;
}

/* "d20261124" for the whole tenant, "d20261124-<topic>" for a topic */
static void daily_id(const job_t *j, const period_t *p, char *out, size_t size)
{
    char base[16];
    size_t tl = strlen(j->topic);

    snprintf(base, sizeof(base), "d%04u%02u%02u", (unsigned)p->date.y % 10000u,
             (unsigned)p->date.m % 100u, (unsigned)p->date.d % 100u);
    if (tl == 0) {
        snprintf(out, size, "%s", base);
    } else if (tl <= 54) {
        snprintf(out, size, "%s-%.54s", base, j->topic);
    } else {
        unsigned long h = 2166136261u; /* FNV-1a keeps long ids unique */
        for (const char *c = j->topic; *c; c++) {
            h = ((h ^ (unsigned char)*c) * 16777619u) & 0xffffffffu;
        }
        snprintf(out, size, "%s-%.45s-%08lx", base, j->topic, h);
    }
}

/* This month's Bedrock spend of the tenant, micro-USD; -1 on failure. */
static long long spent_micros(es_summarizer *s, const char *tenant,
                              const char *month)
{
    char key[256];
    redisReply *rep;
    long long v = 0;

    es_tenant_key(key, sizeof(key), tenant, ES_TK_USAGE, month);
    rep = es_redis_cmd(s->r, "HGET %s %s", key, ES_USAGE_BEDROCK_USD);
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_STRING) {
        v = strtoll(rep->str, NULL, 10);
    }
    freeReplyObject(rep);
    return v;
}

typedef struct {
    char *text;
    const char *source;
    char fallback[512];
    long input_tokens, output_tokens;
    long long usd_micros;
} written_t;

static long long cost_micros(const es_summarizer *s, long in, long out)
{
    return llround(((double)in * s->price_in + (double)out * s->price_out));
}

/* One Converse call's figures; a failed call's tokens are billed too. */
static void count_bedrock(const es_summarizer *s, const es_bedrock_result *res,
                          int ok)
{
    es_metrics_add("echostream_bedrock_calls_total", 1);
    if (!ok) {
        es_metrics_add("echostream_bedrock_failures_total", 1);
    }
    es_metrics_add("echostream_bedrock_input_tokens_total",
                   (double)res->input_tokens);
    es_metrics_add("echostream_bedrock_output_tokens_total",
                   (double)res->output_tokens);
    es_metrics_add(
        "echostream_bedrock_spend_usd_total",
        (double)cost_micros(s, res->input_tokens, res->output_tokens) / 1e6);
}

/* Writes the summary through Bedrock when it may, else locally. */
static int write_text(es_summarizer *s, const job_t *j, const tenant_t *t,
                      const period_t *p, const es_sum_figures *f,
                      const char *month, written_t *w)
{
    char *user = NULL, err[256];
    const es_aws_creds *creds;
    es_bedrock_result res;
    long long spent, budget, estimate;
    int ok;

    memset(w, 0, sizeof(*w));
    if (!s->bedrock_on) {
        goto local;
    }
    user = es_sum_user_prompt(f, t->title, p->label, p->before);
    if (user == NULL) {
        snprintf(w->fallback, sizeof(w->fallback), "out of memory");
        goto local;
    }
    /* the worst case of this call: its input at about 4 characters a
       token, and every token maxTokens allows */
    estimate = cost_micros(
        s, (long)((strlen(user) + strlen(es_sum_system_prompt())) / 4 + 1),
        s->bc.max_tokens);
    spent = spent_micros(s, j->tenant, month);
    if (spent < 0) {
        free(user);
        return -1;
    }
    budget = llround(t->budget_usd * 1e6);
    if (spent + estimate > budget) {
        snprintf(w->fallback, sizeof(w->fallback),
                 "monthly Bedrock budget reached (%.2f of %.2f USD spent)",
                 (double)spent / 1e6, t->budget_usd);
        goto local;
    }
    creds = es_aws_chain_get(s->chain, err, sizeof(err));
    if (creds == NULL) {
        snprintf(w->fallback, sizeof(w->fallback), "no AWS credentials: %.200s",
                 err);
        goto local;
    }
    ok = es_bedrock_converse(s->http, creds, &s->bc, es_sum_system_prompt(),
                             user, &res) == 0 &&
         res.text && res.text[0];
    count_bedrock(s, &res, ok);
    if (ok) {
        w->text = res.text;
        res.text = NULL;
        w->source = "bedrock";
        w->input_tokens = res.input_tokens;
        w->output_tokens = res.output_tokens;
        w->usd_micros = cost_micros(s, res.input_tokens, res.output_tokens);
        es_bedrock_result_free(&res);
        free(user);
        return 0;
    }
    if (res.status == 401 || res.status == 403) {
        /* rotated or expired keys: the next call resolves the chain */
        es_aws_chain_invalidate(s->chain);
    }
    snprintf(w->fallback, sizeof(w->fallback),
             "Bedrock failed after %d attempt%s: %.100s%s%.200s", res.attempts,
             res.attempts == 1 ? "" : "s", res.code, res.message[0] ? ": " : "",
             res.message);
    /* tokens a failed call still reports are still billed */
    w->input_tokens = res.input_tokens;
    w->output_tokens = res.output_tokens;
    w->usd_micros = cost_micros(s, res.input_tokens, res.output_tokens);
    es_bedrock_result_free(&res);
    s->fallbacks++;

local:
    free(user);
    w->source = "local";
    w->text = es_sum_local_text(f, t->title, p->label, p->before);
    if (s->bedrock_on && w->fallback[0]) {
        es_log(ES_WARN, "summary written locally", ES_STR("tenant", j->tenant),
               ES_STR("request", j->id), ES_STR("why", w->fallback), ES_END);
    }
    return w->text ? 0 : -1;
}

static json_t *counts_json(const es_sum_counts *c)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:f}", "comments", (json_int_t)c->n,
        "positive", (json_int_t)c->pos, "neutral", (json_int_t)c->neu,
        "negative", (json_int_t)c->neg, "mixed", (json_int_t)c->mix,
        "mean_compound", round(es_sum_mean(c) * 10000.0) / 10000.0);
}

static json_t *figures_json(const es_sum_figures *f, const tenant_t *t,
                            const period_t *p)
{
    char from[ES_TIME_STR_SIZE], to[ES_TIME_STR_SIZE];
    json_t *terms = json_array(), *comments = json_array();
    static const char *const role[] = {"most_negative", "most_positive",
                                       "top_score", "sample"};

    es_time_str(p->start_s * 1000, from);
    es_time_str(p->end_s * 1000, to);
    for (size_t i = 0; i < f->nterms; i++) {
        json_array_append_new(
            terms, json_pack("{s:s, s:I, s:o}", "term", f->terms[i].term,
                             "count", (json_int_t)f->terms[i].count, "before",
                             f->terms[i].before < 0
                                 ? json_null()
                                 : json_integer(f->terms[i].before)));
    }
    for (size_t i = 0; i < f->ncomments && i < 5; i++) {
        const es_sum_comment *c = &f->comments[i];
        json_array_append_new(
            comments,
            json_pack("{s:s, s:s, s:s, s:f, s:I, s:s}", "role", role[c->role],
                      "id", c->id, "label", c->label, "compound", c->compound,
                      "score", (json_int_t)c->score, "link", c->link));
    }
    return json_pack("{s:{s:s, s:s, s:s}, s:o, s:o, s:o, s:o}", "period",
                     "from", from, "to", to, "time_zone", t->tz, "now",
                     counts_json(&f->now), "before", counts_json(&f->before),
                     "terms", terms, "comments", comments);
}

/* Stores the summary and ends the request (es_summary_finish). */
static int finish(es_summarizer *s, const job_t *j, const tenant_t *t,
                  const period_t *p, const es_sum_figures *f, const char *month,
                  const written_t *w)
{
    char sid[80], date[ES_SUM_DATE_SIZE], created[ES_TIME_STR_SIZE],
        oldest[ES_SUM_DATE_SIZE], keys[6][256], in[24], out[24], usd[24],
        ttl[24];
    es_sum_date today;
    json_t *doc;
    char *json;
    redisReply *rep;

    if (strcmp(j->kind, "daily") == 0) {
        daily_id(j, p, sid, sizeof(sid));
    } else {
        snprintf(sid, sizeof(sid), "%s", j->id);
    }
    es_sum_date_str(p->date, date);
    now_iso(created);
    if (es_sum_local_now(t->tz, es_now_ms() / 1000, &today, NULL) != 0) {
        return -1;
    }
    es_sum_date_str(es_sum_date_add(today, -(int)t->retention_days), oldest);

    doc = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", sid,
                    "topic", j->topic[0] ? json_string(j->topic) : json_null(),
                    "date", date, "created", created, "source", w->source,
                    "text", w->text, "kind", j->kind, "request", j->id,
                    "figures", figures_json(f, t, p));
    if (doc == NULL) {
        return -1;
    }
    json_object_set_new(doc, "title", json_string(t->title));
    if (strcmp(w->source, "bedrock") == 0) {
        json_object_set_new(doc, "model", json_string(s->bc.model));
    }
    json_object_set_new(doc, "input_tokens", json_integer(w->input_tokens));
    json_object_set_new(doc, "output_tokens", json_integer(w->output_tokens));
    json_object_set_new(doc, "cost_usd",
                        json_real((double)w->usd_micros / 1e6));
    if (w->fallback[0]) {
        json_object_set_new(doc, "fallback_reason", json_string(w->fallback));
    }
    json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (json == NULL) {
        return -1;
    }

    es_tenant_key(keys[0], sizeof(keys[0]), j->tenant, ES_TK_SUMMARIES);
    es_tenant_key(keys[1], sizeof(keys[1]), j->tenant, ES_TK_SUMMARY_REQUESTS);
    es_tenant_key(keys[2], sizeof(keys[2]), j->tenant, ES_TK_SUMMARY_PENDING);
    es_tenant_key(keys[3], sizeof(keys[3]), j->tenant, ES_TK_SUMMARY_LOCK);
    es_tenant_key(keys[4], sizeof(keys[4]), j->tenant, ES_TK_USAGE, month);
    snprintf(keys[5], sizeof(keys[5]), "%s", ES_KEY_SUMMARY_REQUESTS);
    snprintf(in, sizeof(in), "%ld", w->input_tokens);
    snprintf(out, sizeof(out), "%ld", w->output_tokens);
    snprintf(usd, sizeof(usd), "%lld", w->usd_micros);
    snprintf(ttl, sizeof(ttl), "%d", ES_TTL_USAGE);
    {
        const char *argv[] = {"FCALL",
                              "es_summary_finish",
                              "6",
                              keys[0],
                              keys[1],
                              keys[2],
                              keys[3],
                              keys[4],
                              keys[5],
                              sid,
                              json,
                              j->id,
                              j->topic[0] ? j->topic : "*",
                              created,
                              w->source,
                              s->w.instance,
                              s->group,
                              j->entry_id,
                              oldest,
                              ttl,
                              ES_USAGE_SUMMARIES,
                              "1",
                              ES_USAGE_BEDROCK_INPUT,
                              in,
                              ES_USAGE_BEDROCK_OUTPUT,
                              out,
                              ES_USAGE_BEDROCK_USD,
                              usd};
        rep = es_redis_argv(s->r, (int)(sizeof(argv) / sizeof(argv[0])), argv,
                            NULL);
    }
    free(json);
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
        s->done++;
        es_metrics_add("echostream_summaries_done_total", 1);
        s->input_tokens += w->input_tokens;
        s->output_tokens += w->output_tokens;
        *(strcmp(w->source, "bedrock") == 0 ? &s->bedrock : &s->local) += 1;
        es_log(ES_INFO, "summary written", ES_STR("tenant", j->tenant),
               ES_STR("summary", sid), ES_STR("source", w->source),
               ES_INT("comments", f->now.n), ES_INT("quoted", f->ncomments),
               ES_INT("input_tokens", w->input_tokens),
               ES_INT("output_tokens", w->output_tokens), ES_END);
    }
    return fcall_status(s, rep, "es_summary_finish");
}

int es_sum_job_run(es_summarizer *s, const redisReply *entry)
{
    job_t j;
    tenant_t t;
    period_t p;
    es_sum_figures f;
    written_t w;
    char month[8], prefix[96];
    long long now_s = es_now_ms() / 1000;
    int rc;

    if (parse(entry, &j) != 0) {
        return ack_invalid(s, entry);
    }
    rc = start(s, &j);
    if (rc != 0) {
        /* busy: stays pending for the claim sweep; ended: only ack */
        return rc == 1 ? 1
               : rc == 2
                   ? fcall_status(
                         s,
                         es_redis_cmd(s->r, "FCALL es_summary_ack 1 %s %s %s",
                                      ES_KEY_SUMMARY_REQUESTS, s->group,
                                      j.entry_id),
                         "es_summary_ack")
                   : -1;
    }
    rc = load_tenant(s, &j, &t);
    if (rc != 0) {
        if (rc == 1) {
            rc = fail(s, &j, "the topic no longer exists");
        }
        tenant_free(&t);
        return rc;
    }
    if (period_of(&j, &t, now_s, &p) != 0) {
        tenant_free(&t);
        return fail(s, &j, "the period could not be computed");
    }
    es_tenant_prefix(prefix, sizeof(prefix), j.tenant);
    if (es_sum_figures_read(s->r, prefix, t.topics, t.ntopics, !j.topic[0],
                            p.start_s, p.end_s, &s->lim, &f) != 0) {
        tenant_free(&t);
        return -1;
    }
    {
        char iso[ES_TIME_STR_SIZE];
        es_time_str(es_now_ms(), iso);
        snprintf(month, sizeof(month), "%.4s%.2s", iso, iso + 5);
    }
    rc = write_text(s, &j, &t, &p, &f, month, &w);
    if (rc == 0) {
        rc = finish(s, &j, &t, &p, &f, month, &w);
    }
    free(w.text);
    es_sum_figures_free(&f);
    tenant_free(&t);
    return rc;
}
