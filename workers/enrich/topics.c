/*
 * topics.c - loading tenants and topics into a matcher (see topics.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_ids.h"
#include "es_log.h"
#include "es_query.h"
#include "es_worker.h"
#include "topics.h"

#define DEFAULT_RETENTION_DAYS 30

void es_topic_set_free(es_topic_set *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->ntopics; i++) {
        free(s->topics[i].subs);
    }
    free(s->topics);
    free(s->tenants);
    es_matcher_free(s->matcher);
    free(s);
}

static const char *hash_get(const redisReply *h, const char *name, size_t *len)
{
    if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        if (h->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            if (len) {
                *len = h->element[i + 1]->len;
            }
            return h->element[i + 1]->str;
        }
    }
    return NULL;
}

static void read_meta(es_enrich_tenant *t, const redisReply *meta,
                      es_engine engine_default)
{
    const char *engine = hash_get(meta, "engine", NULL);
    const char *budget = hash_get(meta, "comprehend_budget_usd", NULL);
    const char *ret = hash_get(meta, "retention_days", NULL);
    double b = budget ? strtod(budget, NULL) : 0.0;
    long long days = ret ? strtoll(ret, NULL, 10) : DEFAULT_RETENTION_DAYS;

    t->engine = engine_default;
    if (engine && strcmp(engine, "comprehend") == 0) {
        t->engine = ES_ENGINE_COMPREHEND;
    } else if (engine && strcmp(engine, "vader") == 0) {
        t->engine = ES_ENGINE_VADER;
    }
    t->budget_micros = b > 0.0 && b < 1e9 ? (long long)(b * 1e6 + 0.5) : 0;
    if (days < 1 || days > 3650) {
        days = DEFAULT_RETENTION_DAYS;
    }
    t->retention_s = days * 86400;
}

/* Parses one topic; 0 added, -1 skipped (logged). */
static int add_topic(es_topic_set *s, es_matcher *m, uint32_t tenant,
                     const char *tid, size_t tid_len, const char *json,
                     size_t json_len)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, json_len, 0, &jerr); /* new */
    json_t *subs, *q;
    es_enrich_topic *tp = &s->topics[s->ntopics];
    const char **names = NULL;
    es_query *query = NULL;
    es_query_error qerr;
    const char *why = NULL;
    int rc = -1;

    memset(tp, 0, sizeof(*tp));
    if (tid_len == 0 || tid_len > 64 || es_tenant_id_valid(tid, tid_len) != 0) {
        why = "invalid topic id";
        goto cleanup;
    }
    if (root == NULL || !json_is_object(root)) {
        why = "topic is not a JSON object";
        goto cleanup;
    }
    subs = json_object_get(root, "subreddits"); /* borrowed */
    q = json_object_get(root, "query");         /* borrowed */
    if (!json_is_array(subs) || json_array_size(subs) == 0) {
        why = "topic has no subreddits";
        goto cleanup;
    }
    tp->subs = calloc(json_array_size(subs), sizeof(*tp->subs));
    names = calloc(json_array_size(subs), sizeof(*names));
    if (tp->subs == NULL || names == NULL) {
        why = "out of memory";
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(subs); i++) {
        json_t *v = json_array_get(subs, i); /* borrowed */
        if (!json_is_string(v) ||
            es_subreddit_normalize(json_string_value(v), json_string_length(v),
                                   tp->subs[tp->nsubs]) != 0) {
            continue;
        }
        names[tp->nsubs] = tp->subs[tp->nsubs];
        tp->nsubs++;
    }
    if (tp->nsubs == 0) {
        why = "topic has no valid subreddit";
        goto cleanup;
    }
    if (json_is_string(q)) {
        query =
            es_query_parse(json_string_value(q), json_string_length(q), &qerr);
        if (query == NULL) {
            es_log(ES_WARN, "topic query invalid; topic skipped",
                   ES_STR("tenant", s->tenants[tenant].id),
                   ES_STR("reason", qerr.reason),
                   ES_INT("offset", (long long)qerr.offset), ES_END);
            goto cleanup;
        }
    }
    if (es_matcher_add(m, (uint32_t)s->ntopics, names, tp->nsubs, query) != 0) {
        why = "out of memory";
        goto cleanup;
    }
    tp->tenant = tenant;
    memcpy(tp->id, tid, tid_len);
    tp->id[tid_len] = '\0';
    s->ntopics++;
    rc = 0;

cleanup:
    if (why != NULL) {
        es_log(ES_WARN, "topic skipped",
               ES_STR("tenant", s->tenants[tenant].id), ES_STR("reason", why),
               ES_END);
    }
    if (rc != 0) {
        free(tp->subs);
        tp->subs = NULL;
    }
    free(names);
    es_query_free(query);
    json_decref(root);
    return rc;
}

typedef struct {
    const char *id;
    const redisReply *topics, *meta;
} tenant_src;

static int cmp_src(const void *a, const void *b)
{
    return strcmp(((const tenant_src *)a)->id, ((const tenant_src *)b)->id);
}

es_topic_set *es_topic_set_build(const char *const *ids, size_t n,
                                 const redisReply *const *topics,
                                 const redisReply *const *meta,
                                 es_engine engine_default)
{
    es_topic_set *s = calloc(1, sizeof(*s));
    tenant_src *src = calloc(n ? n : 1, sizeof(*src));
    size_t maxtopics = 0;

    if (s == NULL || src == NULL) {
        goto error;
    }
    for (size_t i = 0; i < n; i++) {
        src[i].id = ids[i];
        src[i].topics = topics[i];
        src[i].meta = meta[i];
        if (topics[i] && topics[i]->type == REDIS_REPLY_ARRAY) {
            maxtopics += topics[i]->elements / 2;
        }
    }
    /* tenants sorted by id: the order Comprehend costs are split in */
    qsort(src, n, sizeof(*src), cmp_src);
    s->tenants = calloc(n ? n : 1, sizeof(*s->tenants));
    s->topics = calloc(maxtopics ? maxtopics : 1, sizeof(*s->topics));
    s->matcher = es_matcher_new();
    if (s->tenants == NULL || s->topics == NULL || s->matcher == NULL) {
        goto error;
    }
    for (size_t i = 0; i < n; i++) {
        es_enrich_tenant *t = &s->tenants[s->ntenants];
        size_t len = strlen(src[i].id);
        const redisReply *h = src[i].topics;

        if (len > 64 || es_tenant_id_valid(src[i].id, len) != 0) {
            es_log(ES_WARN, "invalid tenant id skipped", ES_END);
            continue;
        }
        memcpy(t->id, src[i].id, len + 1);
        es_tenant_prefix(t->prefix, sizeof(t->prefix), t->id);
        read_meta(t, src[i].meta, engine_default);
        s->ntenants++;
        for (size_t k = 0;
             h && h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements; k += 2) {
            const redisReply *f = h->element[k], *v = h->element[k + 1];
            if (f->type != REDIS_REPLY_STRING ||
                v->type != REDIS_REPLY_STRING) {
                continue;
            }
            add_topic(s, s->matcher, (uint32_t)(s->ntenants - 1), f->str,
                      f->len, v->str, v->len);
        }
    }
    if (es_matcher_build(s->matcher) != 0) {
        goto error;
    }
    free(src);
    return s;

error:
    free(src);
    es_topic_set_free(s);
    return NULL;
}

void es_topics_init(es_topics *t, es_redis *r, long long refresh_ms,
                    es_engine engine_default)
{
    memset(t, 0, sizeof(*t));
    t->r = r;
    t->refresh_ms = refresh_ms;
    t->engine_default = engine_default;
}

void es_topics_cleanup(es_topics *t)
{
    es_topic_set_free(t->cur);
    t->cur = NULL;
}

/* Loads every tenant; NULL on a Redis or memory failure (logged). */
static es_topic_set *load(es_topics *t)
{
    redisReply *members = es_redis_cmd(t->r, "SMEMBERS %s", ES_KEY_TENANTS);
    es_redis_cmdv *cmds = NULL;
    redisReply **replies = NULL;
    const char **ids = NULL;
    const char *(*argv)[2] = NULL;
    size_t(*lens)[2] = NULL;
    es_topic_set *s = NULL;
    size_t n;

    if (members == NULL || members->type != REDIS_REPLY_ARRAY) {
        if (members && members->type == REDIS_REPLY_ERROR) {
            es_log(ES_ERROR, "cannot read tenants",
                   ES_STR("error", members->str), ES_END);
        }
        goto cleanup;
    }
    n = members->elements;
    cmds = calloc(2 * n + 1, sizeof(*cmds));
    replies = calloc(2 * n + 1, sizeof(*replies));
    ids = calloc(n + 1, sizeof(*ids));
    argv = calloc(2 * n + 1, sizeof(*argv));
    lens = calloc(2 * n + 1, sizeof(*lens));
    if (cmds == NULL || replies == NULL || ids == NULL || argv == NULL ||
        lens == NULL) {
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = members->element[i];
        char *key;
        ids[i] = m->type == REDIS_REPLY_STRING ? m->str : "";
        for (int k = 0; k < 2; k++) {
            /* tenant ids are validated before use; keys of invalid ones
               are never built */
            size_t len = strlen(ids[i]);
            int ok =
                len > 0 && len <= 64 && es_tenant_id_valid(ids[i], len) == 0;
            key = malloc(96);
            if (key == NULL) {
                goto cleanup;
            }
            if (ok) {
                es_tenant_key(key, 96, ids[i],
                              k == 0 ? ES_TK_TOPICS : ES_TK_META);
            } else {
                /* a key no tenant has ("-" alone is a valid id, so the
                   suffix is not one of the table's): keeps the pipeline's
                   replies in step */
                snprintf(key, 96, "es:{t:-}:invalid%d", k);
            }
            argv[2 * i + k][0] = "HGETALL";
            argv[2 * i + k][1] = key;
            lens[2 * i + k][0] = 7;
            lens[2 * i + k][1] = strlen(key);
            cmds[2 * i + k].argc = 2;
            cmds[2 * i + k].argv = argv[2 * i + k];
            cmds[2 * i + k].lens = lens[2 * i + k];
        }
    }
    if (n > 0 && es_redis_pipeline(t->r, cmds, (int)(2 * n), replies) != 0) {
        goto cleanup;
    }
    {
        const redisReply **tr = calloc(n + 1, sizeof(*tr));
        const redisReply **mr = calloc(n + 1, sizeof(*mr));
        if (tr != NULL && mr != NULL) {
            for (size_t i = 0; i < n; i++) {
                tr[i] = replies[2 * i];
                mr[i] = replies[2 * i + 1];
            }
            s = es_topic_set_build(ids, n, tr, mr, t->engine_default);
        }
        free(tr);
        free(mr);
    }

cleanup:
    if (argv != NULL) {
        for (size_t i = 0; members && i < 2 * members->elements; i++) {
            free((void *)argv[i][1]);
        }
    }
    if (replies != NULL) {
        for (size_t i = 0; members && i < 2 * members->elements; i++) {
            if (replies[i]) {
                freeReplyObject(replies[i]);
            }
        }
    }
    free(cmds);
    free(replies);
    free(ids);
    free(argv);
    free(lens);
    if (members) {
        freeReplyObject(members);
    }
    return s;
}

int es_topics_refresh(es_topics *t, int force)
{
    long long now = es_mono_ms();
    redisReply *v;
    char ver[32];
    es_topic_set *s;

    if (!force && t->cur != NULL && now < t->next_check_ms) {
        return 0;
    }
    t->next_check_ms = now + t->refresh_ms;
    v = es_redis_cmd(t->r, "GET %s", ES_KEY_TOPICS_VERSION);
    if (v == NULL) {
        return -1;
    }
    snprintf(ver, sizeof(ver), "%s",
             v->type == REDIS_REPLY_STRING ? v->str : "0");
    freeReplyObject(v);
    if (t->cur != NULL && strcmp(ver, t->version) == 0) {
        return 0;
    }
    s = load(t);
    if (s == NULL) {
        es_log(ES_ERROR, "cannot load topics; keeping the previous set",
               ES_END);
        return -1;
    }
    es_topic_set_free(t->cur);
    t->cur = s;
    snprintf(t->version, sizeof(t->version), "%s", ver);
    t->loads++;
    es_log(ES_INFO, "topics loaded", ES_STR("version", ver),
           ES_INT("tenants", (long long)s->ntenants),
           ES_INT("topics", (long long)s->ntopics), ES_END);
    return 1;
}

/* 1 when es:{topics}:version differs from the loaded set's, 0 when not
   (or when Redis could not be asked). */
static int version_moved(es_topics *t)
{
    redisReply *v = es_redis_cmd(t->r, "GET %s", ES_KEY_TOPICS_VERSION);
    char ver[sizeof(t->version)];

    if (v == NULL) {
        return 0;
    }
    /* compared as es_topics_refresh stores it */
    snprintf(ver, sizeof(ver), "%s",
             v->type == REDIS_REPLY_STRING ? v->str : "0");
    freeReplyObject(v);
    return strcmp(ver, t->version) != 0;
}

int es_topics_stale(es_topics *t)
{
    long long now = es_mono_ms();

    if (t->cur == NULL) {
        return 1;
    }
    if (now < t->next_check_ms) {
        return 0;
    }
    t->next_check_ms = now + t->refresh_ms;
    return version_moved(t);
}

int es_topics_moved(es_topics *t)
{
    if (t->cur == NULL) {
        return 1;
    }
    t->next_check_ms = es_mono_ms() + t->refresh_ms;
    return version_moved(t);
}

size_t es_topic_set_tenants_for(const es_topic_set *s, const char *sub,
                                uint32_t *out, unsigned char *mark)
{
    size_t n = 0;

    memset(mark, 0, s->ntenants);
    for (size_t i = 0; i < s->ntopics; i++) {
        const es_enrich_topic *tp = &s->topics[i];
        if (mark[tp->tenant]) {
            continue;
        }
        for (size_t k = 0; k < tp->nsubs; k++) {
            if (strcmp(tp->subs[k], sub) == 0 ||
                strcmp(tp->subs[k], "all") == 0) {
                mark[tp->tenant] = 1;
                break;
            }
        }
    }
    for (size_t i = 0; i < s->ntenants; i++) {
        if (mark[i]) {
            out[n++] = (uint32_t)i;
        }
    }
    return n;
}
