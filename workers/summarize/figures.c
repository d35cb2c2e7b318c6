/*
 * figures.c - reading a summary's figures from enrich's keys (figures.h).
 *
 * Each step is one pipeline: the series of both periods, the term sets,
 * the recent ranges, then the records of the comments they name. A local
 * day need not start on a UTC hour, so an hour the period covers whole is
 * read from the hourly series and a partly covered one from its minute
 * bucket (kept 48 hours, which a daily run at most a day after the day
 * always finds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "es_keys.h"
#include "es_time.h"
#include "es_log.h"
#include "es_record.h"
#include "es_schema.h"
#include "es_terms.h"
#include "es_utf8.h"
#include "figures.h"

#define FIELDS      6 /* n pos neg neu mix cs */
#define RANGE_LABEL 200
#define RANGE_ALL   300
#define MGET_CHUNK  400

static const char *const field_names[FIELDS] = {"n",   "pos", "neg",
                                                "neu", "mix", "cs"};

/* one command of a pipeline, its arguments owned */
typedef struct {
    int argc;
    char **argv;
    size_t *lens;
    es_sum_counts *dst; /* HMGET of series fields into this, or NULL */
} cmd_t;

typedef struct {
    cmd_t *v;
    size_t n, cap;
    int failed;
} cmds_t;

static void cmds_free(cmds_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (int a = 0; a < c->v[i].argc; a++) {
            free(c->v[i].argv[a]);
        }
        free(c->v[i].argv);
        free(c->v[i].lens);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}

/* A new command of at most max arguments, or NULL (c->failed set). */
static cmd_t *cmd_new(cmds_t *c, int max)
{
    cmd_t *cmd;

    if (c->failed) {
        return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        cmd_t *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL) {
            c->failed = 1;
            return NULL;
        }
        c->v = v;
        c->cap = cap;
    }
    cmd = &c->v[c->n];
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv = calloc((size_t)max, sizeof(char *));
    cmd->lens = calloc((size_t)max, sizeof(size_t));
    if (cmd->argv == NULL || cmd->lens == NULL) {
        free(cmd->argv);
        free(cmd->lens);
        c->failed = 1;
        return NULL;
    }
    c->n++;
    return cmd;
}

static void cmd_arg(cmds_t *c, cmd_t *cmd, const char *s)
{
    char *copy;

    if (cmd == NULL) {
        return;
    }
    copy = strdup(s);
    if (copy == NULL) {
        c->failed = 1;
        return;
    }
    cmd->lens[cmd->argc] = strlen(s);
    cmd->argv[cmd->argc++] = copy;
}

/* Sends every command; replies[i] answers c->v[i]. 0 or -1. */
static int cmds_run(es_redis *r, cmds_t *c, redisReply ***replies)
{
    es_redis_cmdv *v;
    int rc;

    *replies = NULL;
    if (c->failed) {
        return -1;
    }
    if (c->n == 0) {
        return 0;
    }
    v = calloc(c->n, sizeof(*v));
    *replies = calloc(c->n, sizeof(redisReply *));
    if (v == NULL || *replies == NULL) {
        free(v);
        free(*replies);
        *replies = NULL;
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        v[i].argc = c->v[i].argc;
        v[i].argv = (const char **)c->v[i].argv;
        v[i].lens = c->v[i].lens;
    }
    rc = es_redis_pipeline(r, v, (int)c->n, *replies);
    free(v);
    if (rc != 0) {
        free(*replies);
        *replies = NULL;
    }
    return rc;
}

static void replies_free(redisReply **replies, size_t n)
{
    for (size_t i = 0; replies && i < n; i++) {
        freeReplyObject(replies[i]);
    }
    free(replies);
}

static void utc_parts(long long t, struct tm *tm)
{
    time_t tt = (time_t)t;
    gmtime_r(&tt, tm);
}

/* HMGET of the fields of hour (or minutes [m0, m1) of it) into dst. */
static void add_hour(cmds_t *c, const char *prefix, size_t plen,
                     const char *topic, long long hour_s, int m0, int m1,
                     es_sum_counts *dst)
{
    char key[512], stamp[40], field[16];
    struct tm tm;
    int whole = m0 == 0 && m1 == 60;
    cmd_t *cmd = cmd_new(c, 2 + FIELDS * (whole ? 1 : m1 - m0));

    if (cmd == NULL) {
        return;
    }
    cmd->dst = dst;
    utc_parts(hour_s, &tm);
    if (whole) {
        snprintf(stamp, sizeof(stamp), "%04d%02d%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday);
        es_tenant_key_p(key, sizeof(key), prefix, plen, ES_TK_SERIES_HOUR,
                        topic, stamp);
    } else {
        snprintf(stamp, sizeof(stamp), "%04d%02d%02d%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
        es_tenant_key_p(key, sizeof(key), prefix, plen, ES_TK_SERIES_MINUTE,
                        topic, stamp);
    }
    cmd_arg(c, cmd, "HMGET");
    cmd_arg(c, cmd, key);
    for (int m = whole ? tm.tm_hour : m0; m < (whole ? tm.tm_hour + 1 : m1);
         m++) {
        for (int f = 0; f < FIELDS; f++) {
            snprintf(field, sizeof(field), "%02d:%s", m, field_names[f]);
            cmd_arg(c, cmd, field);
        }
    }
}

/* The commands reading the counts of [a, b) into dst. */
static void add_range(cmds_t *c, const char *prefix, size_t plen,
                      const char *topic, long long a, long long b,
                      es_sum_counts *dst)
{
    for (long long h = a - a % 3600; h < b; h += 3600) {
        long long from = a > h ? a : h, to = b < h + 3600 ? b : h + 3600;
        int m0 = (int)((from - h) / 60), m1 = (int)((to - h + 59) / 60);
        if (m1 > m0) {
            add_hour(c, prefix, plen, topic, h, m0, m1, dst);
        }
    }
}

static void sum_reply(const redisReply *rep, es_sum_counts *dst)
{
    long long *slot[FIELDS] = {&dst->n,   &dst->pos, &dst->neg,
                               &dst->neu, &dst->mix, &dst->cs};

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type == REDIS_REPLY_STRING) {
            *slot[i % FIELDS] += strtoll(e->str, NULL, 10);
        }
    }
}

static void counts_add(es_sum_counts *a, const es_sum_counts *b)
{
    a->n += b->n;
    a->pos += b->pos;
    a->neg += b->neg;
    a->neu += b->neu;
    a->mix += b->mix;
    a->cs += b->cs;
}

static int read_counts(es_redis *r, const char *prefix, es_sum_figures *f)
{
    cmds_t c = {0};
    redisReply **rep;
    size_t plen = strlen(prefix);
    int rc;

    for (size_t t = 0; t < f->ntopics; t++) {
        add_range(&c, prefix, plen, f->topics[t].id, f->start_s, f->end_s,
                  &f->topics[t].now);
        add_range(&c, prefix, plen, f->topics[t].id, f->prev_start_s,
                  f->start_s, &f->topics[t].before);
    }
    rc = cmds_run(r, &c, &rep);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        sum_reply(rep[i], c.v[i].dst);
    }
    replies_free(rep, c.n);
    cmds_free(&c);
    for (size_t t = 0; rc == 0 && t < f->ntopics; t++) {
        counts_add(&f->now, &f->topics[t].now);
        counts_add(&f->before, &f->topics[t].before);
    }
    return rc;
}

/* term key of each hour overlapping [a, b), of every topic given */
static void add_term_keys(cmds_t *c, cmd_t *cmd, const char *prefix,
                          size_t plen, const es_sum_topic *topics,
                          size_t ntopics, long long a, long long b)
{
    char key[512], stamp[40];
    struct tm tm;

    for (size_t t = 0; t < ntopics; t++) {
        for (long long h = a - a % 3600; h < b; h += 3600) {
            utc_parts(h, &tm);
            snprintf(stamp, sizeof(stamp), "%04d%02d%02d%02d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
            es_tenant_key_p(key, sizeof(key), prefix, plen, ES_TK_TERMS,
                            topics[t].id, stamp);
            cmd_arg(c, cmd, key);
        }
    }
}

static int hours_of(long long a, long long b)
{
    return (int)((b - (a - a % 3600) + 3599) / 3600);
}

/* Top terms of topics over the period into out, with their counts before. */
static int read_terms(es_redis *r, const char *prefix, es_sum_figures *f,
                      const es_sum_topic *topics, size_t ntopics,
                      es_sum_term *out, size_t *nout, long long now_s)
{
    cmds_t c = {0};
    redisReply **rep = NULL;
    size_t plen = strlen(prefix), n = 0;
    int hn = hours_of(f->start_s, f->end_s),
        hp = hours_of(f->prev_start_s, f->start_s), kept = 0, rc;
    char num[16];
    cmd_t *cmd;

    *nout = 0;
    cmd = cmd_new(&c, 3 + hn * (int)ntopics);
    snprintf(num, sizeof(num), "%d", hn * (int)ntopics);
    cmd_arg(&c, cmd, "ZUNION");
    cmd_arg(&c, cmd, num);
    add_term_keys(&c, cmd, prefix, plen, topics, ntopics, f->start_s, f->end_s);
    cmd_arg(&c, cmd, "WITHSCORES");
    rc = cmds_run(r, &c, &rep);
    cmds_free(&c);
    if (rc != 0) {
        return -1;
    }
    if (rep[0] && rep[0]->type == REDIS_REPLY_ARRAY) {
        /* [member, score, …]: keep the ES_SUM_TERMS highest */
        for (size_t i = 0; i + 1 < rep[0]->elements; i += 2) {
            const redisReply *m = rep[0]->element[i],
                             *s = rep[0]->element[i + 1];
            long long cnt;
            size_t at;
            if (m->type != REDIS_REPLY_STRING || m->len >= 64) {
                continue;
            }
            cnt = s->type == REDIS_REPLY_STRING
                      ? (long long)strtod(s->str, NULL)
                      : 0;
            if (cnt <= 0) {
                continue;
            }
            for (at = n; at > 0 && (out[at - 1].count < cnt ||
                                    (out[at - 1].count == cnt &&
                                     strcmp(out[at - 1].term, m->str) > 0));
                 at--) {
                if (at < ES_SUM_TERMS) {
                    out[at] = out[at - 1];
                }
            }
            if (at < ES_SUM_TERMS) {
                memset(&out[at], 0, sizeof(out[at]));
                memcpy(out[at].term, m->str, m->len);
                out[at].count = cnt;
                if (n < ES_SUM_TERMS) {
                    n++;
                }
            }
        }
    }
    replies_free(rep, 1);
    *nout = n;
    if (n == 0) {
        return 0;
    }

    /* the same terms in the period before, from the hours still kept
       (term sets live ES_TTL_MINUTE after their hour) */
    for (long long h = f->prev_start_s - f->prev_start_s % 3600; h < f->start_s;
         h += 3600) {
        if (h + 3600 + ES_TTL_MINUTE > now_s) {
            kept++;
        }
    }
    cmd = cmd_new(&c, 3 + hp * (int)ntopics);
    snprintf(num, sizeof(num), "%d", hp * (int)ntopics);
    cmd_arg(&c, cmd, "ZUNION");
    cmd_arg(&c, cmd, num);
    add_term_keys(&c, cmd, prefix, plen, topics, ntopics, f->prev_start_s,
                  f->start_s);
    cmd_arg(&c, cmd, "WITHSCORES");
    rc = cmds_run(r, &c, &rep);
    cmds_free(&c);
    if (rc != 0) {
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        long long sum = 0;
        for (size_t i = 0; rep[0] && rep[0]->type == REDIS_REPLY_ARRAY &&
                           i + 1 < rep[0]->elements;
             i += 2) {
            const redisReply *m = rep[0]->element[i];
            if (m->type == REDIS_REPLY_STRING &&
                strcmp(m->str, out[k].term) == 0) {
                sum = (long long)strtod(rep[0]->element[i + 1]->str, NULL);
                break;
            }
        }
        /* a partly expired period is scaled up; too little of it: unknown */
        out[k].before = kept * 4 < hp ? -1
                        : kept == hp  ? sum
                                      : sum * hp / (kept ? kept : 1);
    }
    replies_free(rep, 1);
    return 0;
}

/* a candidate comment with the numbers it is chosen by */
typedef struct {
    es_sum_comment c;
    int used;
} cand_t;

typedef struct {
    cand_t *v;
    size_t n, cap;
    es_terms_scratch scratch; /* for the bodies' terms */
} cands_t;

static const char *json_str(json_t *o, es_rec_member m)
{
    const char *s = json_string_value(json_object_get(o, es_record_member(m)));
    return s ? s : "";
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    n = es_utf8_cut(src, n, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Adds the record text of comment id (topic) to cs; 0, or -1 (memory). */
static int cand_add(cands_t *cs, const char *topic, const redisReply *rec,
                    const es_sum_limits *lim)
{
    json_t *o;
    const char *body, *permalink;
    size_t blen, cut;
    es_sum_comment *c;
    es_terms tm;

    if (rec == NULL || rec->type != REDIS_REPLY_STRING) {
        return 0;
    }
    o = json_loadb(rec->str, rec->len, 0, NULL);
    if (!json_is_object(o) ||
        json_object_get(o, es_record_member(ES_REC_DELETED)) ||
        !json_is_string(json_object_get(o, es_record_member(ES_REC_BODY)))) {
        json_decref(o);
        return 0;
    }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 64;
        cand_t *v = realloc(cs->v, cap * sizeof(*v));
        if (v == NULL) {
            json_decref(o);
            return -1;
        }
        cs->v = v;
        cs->cap = cap;
    }
    c = &cs->v[cs->n].c;
    memset(&cs->v[cs->n], 0, sizeof(cs->v[cs->n]));
    copy_str(c->id, sizeof(c->id), json_str(o, ES_REC_ID));
    copy_str(c->topic, sizeof(c->topic), topic);
    copy_str(c->label, sizeof(c->label), json_str(o, ES_REC_LABEL));
    copy_str(c->subreddit, sizeof(c->subreddit), json_str(o, ES_REC_SUBREDDIT));
    copy_str(c->author, sizeof(c->author), json_str(o, ES_REC_AUTHOR));
    c->compound = json_number_value(
        json_object_get(o, es_record_member(ES_REC_COMPOUND)));
    c->score = strtoll(json_str(o, ES_REC_SCORE), NULL, 10);
    c->created_ms = (long long)json_integer_value(
        json_object_get(o, es_record_member(ES_REC_CREATED)));
    permalink = json_str(o, ES_REC_PERMALINK);
    if (permalink[0] == '/') {
        snprintf(c->link, sizeof(c->link), "https://www.reddit.com%.512s",
                 permalink);
    }
    body = json_str(o, ES_REC_BODY);
    blen = strlen(body);
    /* its trending terms: the body's, as enrich counted them */
    es_terms_extract(body, blen, &cs->scratch, &tm);
    for (size_t i = 0; i < tm.n && c->nterms < 4; i++) {
        if (tm.len[i] < sizeof(c->terms[0])) {
            memcpy(c->terms[c->nterms], tm.term[i], tm.len[i]);
            c->terms[c->nterms++][tm.len[i]] = '\0';
        }
    }
    /* max_chars characters: cut at a character boundary within 4x bytes,
       then count characters */
    cut = es_utf8_cut(body, blen, lim->max_chars * 4);
    {
        size_t chars = 0, i = 0;
        while (i < cut && chars < lim->max_chars) {
            unsigned char b = (unsigned char)body[i];
            i += b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
            chars++;
        }
        cut = i < cut ? i : cut;
    }
    c->cut = cut < blen;
    c->body = strndup(body, cut);
    json_decref(o);
    if (c->body == NULL) {
        return -1;
    }
    cs->n++;
    return 0;
}

/*
 * The newest ids and creation times of a topic's comments of label (""
 * every label) created in [start_s, end_s), at most limit (es_recent of
 * lib/redis/read.lua, answering id, ms, id, ms, ...).
 */
static void range_cmd(cmds_t *c, const char *meta, const char *prefix,
                      const char *topic, const char *label, long long start_s,
                      long long end_s, int limit)
{
    char hi[32], lo[32], lim[16];
    cmd_t *cmd = cmd_new(c, 12);

    snprintf(hi, sizeof(hi), "%lld", end_s * 1000 - 1);
    snprintf(lo, sizeof(lo), "%lld", start_s * 1000);
    snprintf(lim, sizeof(lim), "%d", limit);
    cmd_arg(c, cmd, "FCALL_RO");
    cmd_arg(c, cmd, "es_recent");
    cmd_arg(c, cmd, "1");
    cmd_arg(c, cmd, meta);
    cmd_arg(c, cmd, prefix);
    cmd_arg(c, cmd, topic);
    cmd_arg(c, cmd, label);
    cmd_arg(c, cmd, lo);
    cmd_arg(c, cmd, hi);
    cmd_arg(c, cmd, "0");
    cmd_arg(c, cmd, lim);
    cmd_arg(c, cmd, "desc");
}

/* Reads the candidates: newest negative, positive and any of each topic. */
static int read_candidates(es_redis *r, const char *prefix,
                           const es_sum_figures *f, const es_sum_limits *lim,
                           cands_t *cs)
{
    cmds_t c = {0}, g = {0};
    redisReply **rep = NULL, **recs = NULL;
    size_t plen = strlen(prefix);
    char key[512];
    int rc;

    es_tenant_key_p(key, sizeof(key), prefix, plen, ES_TK_META);
    for (size_t t = 0; t < f->ntopics; t++) {
        const char *tid = f->topics[t].id;
        range_cmd(&c, key, prefix, tid, "negative", f->start_s, f->end_s,
                  RANGE_LABEL);
        range_cmd(&c, key, prefix, tid, "positive", f->start_s, f->end_s,
                  RANGE_LABEL);
        range_cmd(&c, key, prefix, tid, "", f->start_s, f->end_s, RANGE_ALL);
    }
    rc = cmds_run(r, &c, &rep);
    if (rc != 0) {
        cmds_free(&c);
        return -1;
    }

    /* read the records in chunks (es_records: id and creation hour
       each), remembering each one's topic */
    for (size_t i = 0; i < c.n; i++) {
        const redisReply *ids = rep[i];
        size_t t = i / 3, n = ids && ids->type == REDIS_REPLY_ARRAY
                                  ? ids->elements / 2
                                  : 0;
        for (size_t j = 0; j < n; j += MGET_CHUNK) {
            size_t k = n - j < MGET_CHUNK ? n - j : MGET_CHUNK;
            cmd_t *cmd = cmd_new(&g, 5 + 2 * (int)k);
            cmd_arg(&g, cmd, "FCALL_RO");
            cmd_arg(&g, cmd, "es_records");
            cmd_arg(&g, cmd, "1");
            cmd_arg(&g, cmd, key);
            cmd_arg(&g, cmd, prefix);
            for (size_t x = 0; x < k; x++) {
                const redisReply *id = ids->element[2 * (j + x)];
                const redisReply *ms = ids->element[2 * (j + x) + 1];
                char hour[11];
                es_time_hour(ms->type == REDIS_REPLY_STRING
                                 ? strtoll(ms->str, NULL, 10)
                                 : 0,
                             hour);
                cmd_arg(&g, cmd,
                        id->type == REDIS_REPLY_STRING ? id->str : "0");
                cmd_arg(&g, cmd, hour);
            }
            if (cmd) {
                cmd->dst = (es_sum_counts *)&f->topics[t]; /* topic marker */
            }
        }
    }
    replies_free(rep, c.n);
    cmds_free(&c);
    rc = cmds_run(r, &g, &recs);
    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        const es_sum_topic *tp = (const es_sum_topic *)(void *)g.v[i].dst;
        for (size_t j = 0; recs[i] && recs[i]->type == REDIS_REPLY_ARRAY &&
                           j < recs[i]->elements;
             j++) {
            if (cand_add(cs, tp->id, recs[i]->element[j], lim) != 0) {
                rc = -1;
                break;
            }
        }
    }
    replies_free(recs, g.n);
    cmds_free(&g);
    return rc;
}

/* The unused candidate best by role, or NULL. */
static cand_t *best(cands_t *cs, es_sum_role role)
{
    cand_t *b = NULL;

    for (size_t i = 0; i < cs->n; i++) {
        cand_t *x = &cs->v[i];
        int better;
        if (x->used) {
            continue;
        }
        switch (role) {
        case ES_SUM_MOST_NEGATIVE:
            better = x->c.compound < 0 &&
                     (b == NULL || x->c.compound < b->c.compound);
            break;
        case ES_SUM_MOST_POSITIVE:
            better = x->c.compound > 0 &&
                     (b == NULL || x->c.compound > b->c.compound);
            break;
        default:
            better = b == NULL || x->c.score > b->c.score;
            break;
        }
        if (better) {
            b = x;
        }
    }
    return b;
}

/* A duplicate id (a comment of two topics) counts once. */
static void mark_duplicates(cands_t *cs, const char *id)
{
    for (size_t i = 0; i < cs->n; i++) {
        if (strcmp(cs->v[i].c.id, id) == 0) {
            cs->v[i].used = 1;
        }
    }
}

static int choose(cands_t *cs, const es_sum_limits *lim, es_sum_figures *f)
{
    static const es_sum_role order[] = {ES_SUM_MOST_NEGATIVE,
                                        ES_SUM_MOST_POSITIVE, ES_SUM_TOP_SCORE};
    size_t max = lim->max_comments;

    f->comments = calloc(max ? max : 1, sizeof(*f->comments));
    if (f->comments == NULL) {
        return -1;
    }
    /* the three representatives, then samples by turns of the same
       orders, so negative, positive and popular voices stay balanced */
    for (size_t round = 0; f->ncomments < max; round++) {
        size_t before = f->ncomments;
        for (size_t k = 0; k < 3 && f->ncomments < max; k++) {
            cand_t *b = best(cs, order[k]);
            if (b == NULL) {
                continue;
            }
            f->comments[f->ncomments] = b->c;
            f->comments[f->ncomments].role =
                round == 0 ? order[k] : ES_SUM_SAMPLE;
            b->c.body = NULL; /* moved */
            mark_duplicates(cs, b->c.id);
            f->ncomments++;
        }
        if (f->ncomments == before) {
            break;
        }
    }
    return 0;
}

int es_sum_figures_read(es_redis *r, const char *prefix,
                        const es_sum_topic_ref *topics, size_t ntopics,
                        int whole, long long start_s, long long end_s,
                        const es_sum_limits *lim, es_sum_figures *f)
{
    cands_t cs = {0};
    long long now_s = (long long)time(NULL);
    int rc = -1;

    memset(f, 0, sizeof(*f));
    f->start_s = start_s;
    f->end_s = end_s;
    f->prev_start_s = start_s - (end_s - start_s);
    f->whole = whole;
    f->topics = calloc(ntopics ? ntopics : 1, sizeof(*f->topics));
    if (f->topics == NULL) {
        return -1;
    }
    f->ntopics = ntopics;
    for (size_t t = 0; t < ntopics; t++) {
        copy_str(f->topics[t].id, sizeof(f->topics[t].id), topics[t].id);
        copy_str(f->topics[t].name, sizeof(f->topics[t].name),
                 topics[t].name && topics[t].name[0] ? topics[t].name
                                                     : topics[t].id);
    }
    if (ntopics == 0) {
        return 0; /* a tenant without topics: nothing to read */
    }
    if (read_counts(r, prefix, f) != 0 ||
        read_terms(r, prefix, f, f->topics, f->ntopics, f->terms, &f->nterms,
                   now_s) != 0) {
        goto done;
    }
    for (size_t t = 0; whole && t < ntopics; t++) {
        if (read_terms(r, prefix, f, &f->topics[t], 1, f->topics[t].terms,
                       &f->topics[t].nterms, now_s) != 0) {
            goto done;
        }
    }
    if (read_candidates(r, prefix, f, lim, &cs) != 0 ||
        choose(&cs, lim, f) != 0) {
        goto done;
    }
    rc = 0;

done:
    for (size_t i = 0; i < cs.n; i++) {
        free(cs.v[i].c.body);
    }
    free(cs.v);
    es_terms_scratch_free(&cs.scratch);
    if (rc != 0) {
        es_sum_figures_free(f);
    }
    return rc;
}

void es_sum_figures_free(es_sum_figures *f)
{
    for (size_t i = 0; i < f->ncomments; i++) {
        free(f->comments[i].body);
    }
    free(f->comments);
    free(f->topics);
    memset(f, 0, sizeof(*f));
}
