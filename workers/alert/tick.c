/*
 * tick.c - one evaluation of every rule of every tenant (see tick.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_worker.h"
#include "event.h"
#include "prune.h"
#include "rules.h"
#include "series.h"
#include "spike.h"
#include "tick.h"

typedef struct {
    es_alert_ticker *t;
    const char *tenant;
    char prefix[96];
    size_t plen;
    char k_state[160], k_history[160], k_deliveries[160], k_members[160];
    redisReply *members; /* HVALS, read at the first alert */
    long long now_ms;
    /* the rule in hand */
    es_bucket win[ES_SPIKE_WINDOW_MAX];
    es_bucket hours[ES_SPIKE_BASELINE_HOURS];
} tenant_ctx;

void es_alert_ticker_init(es_alert_ticker *t, es_redis *r)
{
    memset(t, 0, sizeof(*t));
    t->r = r;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    }
    return (h ^ 0xff) * 1099511628211ULL; /* a separator */
}

/* 1 the first time this text of this rule is seen malformed */
static int first_warning(es_alert_ticker *t, const char *tenant, const char *id,
                         const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    h = fnv(h, tenant, strlen(tenant));
    h = fnv(h, id, strlen(id));
    h = fnv(h, text, len);
    for (size_t i = 0; i < t->nwarned; i++) {
        if (t->warned[i] == h) {
            return 0;
        }
    }
    if (t->nwarned == ES_ALERT_WARNED_MAX) {
        t->nwarned = 0; /* forget: at worst a line is logged again */
    }
    t->warned[t->nwarned++] = h;
    return 1;
}

/* The stored state of a rule (text may be NULL: never fired, armed). */
static void parse_state(const char *text, size_t len, es_spike_state *st)
{
    json_t *o, *armed;

    st->armed = 1;
    st->quiet_until_ms = 0;
    st->fired_ms = 0;
    if (text == NULL) {
        return;
    }
    o = json_loadb(text, len, 0, NULL);
    armed = json_object_get(o, "armed");
    if (json_is_boolean(armed)) {
        st->armed = json_is_true(armed);
    }
    /* json_number_value: Lua's cjson may write a whole number as a real */
    st->quiet_until_ms =
        (long long)json_number_value(json_object_get(o, "quiet_until_ms"));
    st->fired_ms = (long long)json_number_value(json_object_get(o, "fired_ms"));
    json_decref(o);
}

/* The value of field in a HGETALL reply, or NULL. */
static const redisReply *field_of(const redisReply *h, const char *field)
{
    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        if (h->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(h->element[i]->str, field) == 0) {
            return h->element[i + 1];
        }
    }
    return NULL;
}

static int load_members(tenant_ctx *c)
{
    if (c->members != NULL) {
        return 0;
    }
    c->members = es_redis_cmd(c->t->r, "HVALS %s", c->k_members);
    if (c->members == NULL || c->members->type != REDIS_REPLY_ARRAY) {
        if (c->members) {
            freeReplyObject(c->members);
            c->members = NULL;
        }
        return -1;
    }
    return 0;
}

/* The recipients' JSON array text, or NULL (none, or no memory). */
static char *recipients_text(tenant_ctx *c, const es_alert_rule *rule)
{
    const char **texts = NULL;
    size_t *lens = NULL, n = 0;
    json_t *list;
    char *out = NULL;

    if (load_members(c) == 0) {
        n = c->members->elements;
        texts = calloc(n + 1, sizeof(*texts));
        lens = calloc(n + 1, sizeof(*lens));
        if (texts == NULL || lens == NULL) {
            n = 0;
        }
        for (size_t i = 0; i < n; i++) {
            texts[i] =
                c->members->element[i]->str ? c->members->element[i]->str : "";
            lens[i] = c->members->element[i]->len;
        }
    }
    list = es_alert_recipients(rule, texts, lens, n);
    if (list != NULL && json_array_size(list) > 0) {
        out = json_dumps(list, JSON_COMPACT);
    }
    json_decref(list);
    free(texts);
    free(lens);
    return out;
}

/* The event of a firing, as the text the history will hold. */
static char *event_text(tenant_ctx *c, const es_alert_rule *rule,
                        const es_spike_eval *e, const es_spike_span *sp)
{
    int negative = rule->spike.metric != ES_METRIC_VOLUME;
    redisReply *recs = es_alert_sample_records(
        c->t->r, c->prefix, c->plen, rule->topic, negative, sp->from_ms,
        sp->to_ms, ES_ALERT_SAMPLE_POOL);
    const char *texts[ES_ALERT_SAMPLE_POOL];
    size_t lens[ES_ALERT_SAMPLE_POOL], n = 0;
    json_t *samples, *ev;
    char *out;

    for (size_t i = 0; recs && i < recs->elements && n < ES_ALERT_SAMPLE_POOL;
         i++) {
        const redisReply *v = recs->element[i];
        texts[n] = v->type == REDIS_REPLY_STRING ? v->str : NULL;
        lens[n++] = v->type == REDIS_REPLY_STRING ? v->len : 0;
    }
    samples = es_alert_samples(rule->spike.metric, texts, lens, n);
    if (recs) {
        freeReplyObject(recs);
    }
    if (samples == NULL) {
        return NULL;
    }
    ev = es_alert_event(rule, e, sp, c->now_ms, samples);
    if (ev == NULL) {
        return NULL;
    }
    out = json_dumps(ev, ES_ALERT_JSON_FLAGS);
    json_decref(ev);
    return out;
}

static void fire(tenant_ctx *c, const es_alert_rule *rule,
                 const redisReply *state, const es_spike_eval *e,
                 const es_spike_span *sp)
{
    char now_s[24], cd_s[24], max_s[24], n_s[4];
    const char *argv[24];
    size_t lens[24];
    char *ev = event_text(c, rule, e, sp);
    char *to = recipients_text(c, rule);
    char *hook = NULL;
    redisReply *rep;
    int argc = 0, n = 0;

    if (ev == NULL) {
        es_log(ES_ERROR, "cannot build the alert event",
               ES_STR("tenant", c->tenant), ES_STR("rule", rule->id), ES_END);
        goto cleanup;
    }
    if (rule->webhook) {
        json_t *u = json_string(rule->webhook);
        hook = u ? json_dumps(u, JSON_ENCODE_ANY) : NULL;
        json_decref(u);
    }
    snprintf(now_s, sizeof(now_s), "%lld", c->now_ms);
    snprintf(cd_s, sizeof(cd_s), "%lld", rule->cooldown_ms);
    snprintf(max_s, sizeof(max_s), "%d", ES_ALERT_HISTORY_MAXLEN);
    n = (to != NULL) + (hook != NULL);
    snprintf(n_s, sizeof(n_s), "%d", n);
    argv[argc++] = "FCALL";
    argv[argc++] = "es_alert_fire";
    argv[argc++] = "4";
    argv[argc++] = c->k_state;
    argv[argc++] = c->k_history;
    argv[argc++] = c->k_deliveries;
    argv[argc++] = ES_KEY_DELIVER_QUEUE;
    argv[argc++] = c->tenant;
    argv[argc++] = rule->id;
    argv[argc++] = state ? state->str : "";
    argv[argc++] = now_s;
    argv[argc++] = cd_s;
    argv[argc++] = max_s;
    argv[argc++] = ev;
    argv[argc++] = n_s;
    if (to) {
        argv[argc++] = "email";
        argv[argc++] = to;
    }
    if (hook) {
        argv[argc++] = "webhook";
        argv[argc++] = hook;
    }
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    /* a retry after a lost reply is refused by the function's own
       compare-and-set: the state it wrote is not the one expected */
    rep = es_redis_argv(c->t->r, argc, argv, lens);
    if (rep == NULL) {
        goto cleanup;
    }
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER &&
        rep->element[0]->integer == 1) {
        c->t->alerts_fired++;
        es_metrics_add("echostream_alerts_detected_total", 1);
        es_log(ES_INFO, "alert fired", ES_STR("tenant", c->tenant),
               ES_STR("rule", rule->id), ES_STR("topic", rule->topic),
               ES_STR("metric", es_metric_name(rule->spike.metric)),
               ES_DBL("observed", e->observed), ES_DBL("mean", e->mean),
               ES_DBL("threshold", e->threshold), ES_INT("volume", e->volume),
               ES_STR("event", rep->element[1]->str),
               ES_INT("deliveries", (long long)rep->elements - 2), ES_END);
    } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        es_log(
            ES_INFO, "alert not recorded", ES_STR("tenant", c->tenant),
            ES_STR("rule", rule->id),
            ES_STR("reason", rep->element[1]->str ? rep->element[1]->str : "?"),
            ES_END);
    } else {
        es_log(ES_ERROR, "es_alert_fire failed", ES_STR("tenant", c->tenant),
               ES_STR("rule", rule->id),
               ES_STR("error",
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply"),
               ES_END);
    }
    freeReplyObject(rep);

cleanup:
    free(ev);
    free(to);
    free(hook);
}

static void rearm(tenant_ctx *c, const es_alert_rule *rule,
                  const redisReply *state)
{
    redisReply *rep;

    if (state == NULL) {
        return;
    }
    rep = es_redis_cmd(c->t->r, "FCALL es_alert_arm 1 %s %s %b", c->k_state,
                       rule->id, state->str, state->len);
    if (rep == NULL) {
        return;
    }
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
        c->t->rearmed++;
        es_log(ES_INFO, "alert rule re-armed", ES_STR("tenant", c->tenant),
               ES_STR("rule", rule->id), ES_END);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "es_alert_arm failed", ES_STR("tenant", c->tenant),
               ES_STR("rule", rule->id), ES_STR("error", rep->str), ES_END);
    }
    freeReplyObject(rep);
}

static void check_rule(tenant_ctx *c, const redisReply *id,
                       const redisReply *text, const redisReply *states)
{
    es_alert_ticker *t = c->t;
    const redisReply *state;
    es_alert_rule rule;
    es_spike_state st;
    es_spike_span sp;
    es_spike_eval e;
    char err[256];

    if (id->type != REDIS_REPLY_STRING || text->type != REDIS_REPLY_STRING) {
        return;
    }
    if (es_alert_rule_parse(id->str, text->str, text->len, &rule, err,
                            sizeof(err)) != 0) {
        t->bad_rules++;
        if (first_warning(t, c->tenant, id->str, text->str, text->len)) {
            es_log(ES_WARN, "alert rule ignored: malformed",
                   ES_STR("tenant", c->tenant), ES_STR("rule", id->str),
                   ES_STR("error", err), ES_END);
        }
        return;
    }
    if (!rule.enabled) {
        es_alert_rule_free(&rule);
        return;
    }
    state = field_of(states, rule.id);
    parse_state(state ? state->str : NULL, state ? state->len : 0, &st);
    es_spike_span_at(c->now_ms, rule.spike.window_minutes, &sp);
    if (es_alert_series_load(t->r, c->prefix, c->plen, rule.topic, &sp, c->win,
                             c->hours) != 0) {
        es_alert_rule_free(&rule);
        return;
    }
    es_spike_evaluate(&rule.spike, c->win, (size_t)sp.nminutes, c->hours,
                      (size_t)sp.nhours, &e);
    t->rules_checked++;
    t->learning += e.status == ES_SPIKE_LEARNING;
    es_log(ES_DEBUG, "alert rule checked", ES_STR("tenant", c->tenant),
           ES_STR("rule", rule.id), ES_INT("status", e.status),
           ES_DBL("observed", e.observed), ES_DBL("threshold", e.threshold),
           ES_INT("volume", e.volume), ES_INT("hours", e.hours),
           ES_INT("armed", st.armed), ES_END);
    switch (es_spike_decide(&e, &st, c->now_ms)) {
    case ES_SPIKE_FIRE:
        fire(c, &rule, state, &e, &sp);
        break;
    case ES_SPIKE_REARM:
        rearm(c, &rule, state);
        break;
    case ES_SPIKE_STAY:
        break;
    }
    es_alert_rule_free(&rule);
}

/* Deletes the states of rules that are gone. */
static void prune_states(tenant_ctx *c, const redisReply *rules,
                         const redisReply *states)
{
    for (size_t i = 0; states && i + 1 < states->elements; i += 2) {
        const redisReply *f = states->element[i];
        redisReply *rep;
        if (f->type != REDIS_REPLY_STRING || field_of(rules, f->str)) {
            continue;
        }
        rep = es_redis_cmd(c->t->r, "HDEL %s %b", c->k_state, f->str, f->len);
        if (rep) {
            freeReplyObject(rep);
        }
    }
}

static int tick_tenant(es_alert_ticker *t, tenant_ctx *c)
{
    const char *argv[2][2] = {{"HGETALL", NULL}, {"HGETALL", c->k_state}};
    char k_rules[160];
    size_t lens[2][2];
    es_redis_cmdv cmds[2];
    redisReply *reps[2];
    int rc = -1;

    c->plen = (size_t)es_tenant_prefix(c->prefix, sizeof(c->prefix), c->tenant);
    if (es_tenant_key(k_rules, sizeof(k_rules), c->tenant, ES_TK_RULES) < 0 ||
        es_tenant_key(c->k_state, sizeof(c->k_state), c->tenant,
                      ES_TK_ALERT_STATE) < 0 ||
        es_tenant_key(c->k_history, sizeof(c->k_history), c->tenant,
                      ES_TK_ALERT_HISTORY) < 0 ||
        es_tenant_key(c->k_deliveries, sizeof(c->k_deliveries), c->tenant,
                      ES_TK_DELIVERIES) < 0 ||
        es_tenant_key(c->k_members, sizeof(c->k_members), c->tenant,
                      ES_TK_MEMBERS) < 0) {
        return -1;
    }
    argv[0][1] = k_rules;
    for (int i = 0; i < 2; i++) {
        lens[i][0] = 7;
        lens[i][1] = strlen(argv[i][1]);
        cmds[i].argc = 2;
        cmds[i].argv = argv[i];
        cmds[i].lens = lens[i];
    }
    if (es_redis_pipeline(t->r, cmds, 2, reps) != 0) {
        return -1;
    }
    if (reps[0]->type == REDIS_REPLY_ARRAY &&
        reps[1]->type == REDIS_REPLY_ARRAY) {
        prune_states(c, reps[0], reps[1]);
        for (size_t i = 0; i + 1 < reps[0]->elements && !es_stopping();
             i += 2) {
            check_rule(c, reps[0]->element[i], reps[0]->element[i + 1],
                       reps[1]);
        }
        rc = 0;
    }
    freeReplyObject(reps[0]);
    freeReplyObject(reps[1]);
    if (c->members) {
        freeReplyObject(c->members);
        c->members = NULL;
    }
    return rc;
}

int es_alert_tick(es_alert_ticker *t, long long now_ms)
{
    static tenant_ctx c; /* large bucket arrays: one, reused */
    redisReply *tenants = es_redis_cmd(t->r, "SMEMBERS %s", ES_KEY_TENANTS);
    int prune = now_ms >= t->next_prune_ms;
    int rc = 0;

    if (tenants == NULL) {
        return -1;
    }
    t->ticks++;
    t->bad_rules = 0;
    t->last_tick_ms = now_ms;
    for (size_t i = 0; tenants->type == REDIS_REPLY_ARRAY &&
                       i < tenants->elements && !es_stopping();
         i++) {
        const redisReply *id = tenants->element[i];
        if (id->type != REDIS_REPLY_STRING ||
            es_tenant_id_valid(id->str, id->len) != 0) {
            continue;
        }
        memset(&c, 0, sizeof(c));
        c.t = t;
        c.tenant = id->str;
        c.now_ms = now_ms;
        if (tick_tenant(t, &c) != 0) {
            rc = -1;
        }
        if (prune) {
            es_alert_prune_deliveries(t->r, id->str, now_ms,
                                      ES_DELIVERY_KEEP_MS);
        }
    }
    if (prune) {
        t->next_prune_ms = now_ms + ES_DELIVERY_PRUNE_MS;
    }
    freeReplyObject(tenants);
    return rc;
}
