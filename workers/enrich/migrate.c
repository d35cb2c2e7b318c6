/*
 * migrate.c - the schema-1 to schema-2 migration (see migrate.h).
 *
 * One pass of SCAN over every legacy record key counts them per tenant
 * (which also finds tenants that are no longer in es:{tenants}:all); then
 * each tenant in turn: its keys are scanned again a window of about
 * WINDOW keys at a time, read with one MGET, parsed and converted here,
 * sorted by creation hour and sent as es_enrich_migrate calls of CHUNK
 * records. Each redis.call inside a function costs about as much as a
 * small command, and the keys come in hash order: unsorted, every call
 * would touch every hour's buckets, split fields and recent texts again
 * (measured: twice the Redis time); sorted, a call spans a few hours.
 * CHUNK keeps a call to tens of milliseconds, so the API's reads are not
 * held up for long; WINDOW costs the worker about 35 MB.
 *
 * Two rounds over the tenants: the VADER records (and tombstones) first,
 * then the Comprehend records. A public part holds VADER's sentiment and
 * the one written first stays; a VADER record has it as the tenant's
 * series counted it, a Comprehend record only as its body scores now.
 *
 * A new hour's split is chosen for what the whole migration will write
 * into it (the window's records of the hour times the tenant's records
 * over the window's), not for the share of the call that writes first. A record
 * that changed between its read and its call (a worker of schema 1 still
 * running) is left by the call; the tenant is then scanned again, up to
 * PASSES times. Then its schema-1 recent sets go: their members are
 * rebuilt from the records, and a member without a record could not be
 * shown anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_worker.h"
#include "fmt.h"
#include "jsonw.h"
#include "legacy.h"
#include "migrate.h"
#include "record.h"
#include "topics.h"

#define WINDOW 20000 /* legacy keys read and sorted at once */
#define CHUNK  1000  /* records a call */
/* a call's arguments: 11 before the hours, 3 an hour, 8 a record */
#define CALL_ARGS        (11 + 3 * CHUNK + 8 * CHUNK)
#define SCAN_COUNT       "1000"
#define PASSES           3     /* scans of a tenant while records change */
#define RENEW_MS         5000  /* renew the lock this often when idle */
#define WAIT_MS          500   /* poll of a worker waiting for another */
#define WAIT_LOG_MS      10000 /* how often a waiting worker says so */
#define PROGRESS_MS      2000  /* how often progress is logged */
#define MALFORMED_LOGGED 20    /* malformed records logged one by one */
#define PAGES_MAX        64    /* SCAN replies one window may gather */
#define RETENTION_DAYS   30    /* a tenant's retention when meta has none */

typedef struct {
    char id[72];
    long long keys;     /* legacy record keys counted */
    long long deferred; /* Comprehend records left for the second round */
} tenant;

typedef struct {
    es_redis *r;
    const es_vader *v;
    es_migrate_stats *st;
    char token[160];
    long long renewed; /* es_mono_ms of the last renewal */
    int lost;          /* the lock was taken over */
    tenant *t;         /* sorted by id */
    size_t nt, tcap;
    long long all_keys; /* legacy record keys of every tenant */
    es_legacy *lg;
    es_enrich_topic *topics;
    es_enrich_pair *pairs;
    es_jsonw tw, pw, xw;
    es_argbuf args;
    const char **mv; /* MGET arguments */
    size_t *ml, mcap;
    struct rec_ref *refs; /* the window's records */
    size_t nrefs, refcap;
    const char **cv; /* one call's arguments: CALL_ARGS */
    size_t *cl;
    char (*est)[ES_FMT_LL_MAX + 1]; /* its numbers: 2 * CHUNK + 1 */
    long long t0, last_log;
    long long tenant_done; /* keys read of the tenant in hand */
} migrator;

/* ---- tenants ---- */

/* The tenant with id s[0..n), added (0 keys) when new; NULL out of memory
   or when s is not a valid tenant id. */
static tenant *tenant_get(migrator *m, const char *s, size_t n)
{
    size_t lo = 0, hi = m->nt;

    if (n == 0 || n > 64 || es_tenant_id_valid(s, n) != 0) {
        return NULL;
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(m->t[mid].id, s, n);
        if (c == 0 && m->t[mid].id[n] != '\0') {
            c = 1;
        }
        if (c == 0) {
            return &m->t[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (m->nt == m->tcap) {
        size_t nc = m->tcap ? m->tcap * 2 : 64;
        tenant *p = realloc(m->t, nc * sizeof(*p));
        if (p == NULL) {
            return NULL;
        }
        m->t = p;
        m->tcap = nc;
    }
    memmove(&m->t[lo + 1], &m->t[lo], (m->nt - lo) * sizeof(*m->t));
    memcpy(m->t[lo].id, s, n);
    m->t[lo].id[n] = '\0';
    m->t[lo].keys = 0;
    m->t[lo].deferred = 0;
    m->nt++;
    return &m->t[lo];
}

#define KEY_PRE "es:{t:"

/*
 * The length of the tenant part of a key "es:{t:<tenant>}:c:<…>" (the
 * tenant is k + 6), or 0 when k has another form.
 */
static size_t key_tenant(const char *k, size_t n)
{
    const char *end;

    if (n < sizeof(KEY_PRE) || memcmp(k, KEY_PRE, sizeof(KEY_PRE) - 1) != 0) {
        return 0;
    }
    end = memchr(k + sizeof(KEY_PRE) - 1, '}', n - (sizeof(KEY_PRE) - 1));
    if (end == NULL || (size_t)(k + n - end) < 4 || memcmp(end, "}:c:", 4)) {
        return 0;
    }
    return (size_t)(end - k) - (sizeof(KEY_PRE) - 1);
}

/*
 * The tenant (s[0..*tn)) and comment id (canonical, into id) of a legacy
 * record key "es:{t:<tenant>}:c:<id>"; 0, or -1 when k is not one.
 */
static int legacy_key(const char *k, size_t n, size_t *tn, char id[16])
{
    const char *c;
    uint64_t num;
    size_t il;

    *tn = key_tenant(k, n);
    if (*tn == 0) {
        return -1;
    }
    c = k + sizeof(KEY_PRE) - 1 + *tn + 4;
    il = (size_t)(k + n - c);
    if (il == 0 || il > 13 || es_comment_id_parse(c, il, &num) != 0) {
        return -1;
    }
    es_comment_id_format(num, id);
    return strlen(id) == il && memcmp(id, c, il) == 0 ? 0 : -1;
}

/* ---- Redis ---- */

/* A reply of the expected type, else NULL (an error logged); freed
   either way when it is not returned. */
static redisReply *expect(redisReply *rep, int type, const char *what)
{
    if (rep != NULL && rep->type == type) {
        return rep;
    }
    if (rep != NULL) {
        es_log(
            ES_ERROR, "schema migration: unexpected reply",
            ES_STR("command", what),
            ES_STR("error", rep->type == REDIS_REPLY_ERROR ? rep->str : "type"),
            ES_END);
        freeReplyObject(rep);
    }
    return NULL;
}

static void malformed(migrator *m, const char *key, const char *why)
{
    m->st->malformed++;
    es_log(m->st->malformed <= MALFORMED_LOGGED ? ES_WARN : ES_DEBUG,
           "schema migration: malformed record left in place",
           ES_STR("key", key), ES_STR("reason", why), ES_END);
}

/* the reply of an es_enrich_migrate op answering 1 (lock, release,
   done), which it frees; 0 or -1 (m->lost set when the lock was taken
   over) */
static int lock_reply(migrator *m, redisReply *rep)
{
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
        strstr(rep->str, "lock lost") != NULL) {
        m->lost = 1;
    }
    rep = expect(rep, REDIS_REPLY_INTEGER, "es_enrich_migrate");
    if (rep == NULL) {
        return -1;
    }
    freeReplyObject(rep);
    m->renewed = es_mono_ms();
    return 0;
}

/* es_enrich_migrate op with no more arguments (lock, release) */
static int lock_op(migrator *m, const char *op)
{
    return lock_reply(
        m, es_redis_cmd(m->r, "FCALL es_enrich_migrate 0 %s %s %d %s",
                        ES_KEY_SCHEMA_LOCK, m->token, ES_MIGRATE_LOCK_MS, op));
}

/* renews the lock when RENEW_MS passed without a call that renewed it */
static int keep_lock(migrator *m)
{
    if (es_mono_ms() - m->renewed < RENEW_MS) {
        return 0;
    }
    return lock_op(m, "lock");
}

/*
 * One SCAN page of pattern (of type, or any when NULL) from cursor (which
 * it advances; "0" when the scan is over). A new reply whose second
 * element is the keys, or NULL.
 */
static redisReply *scan_page(migrator *m, char cursor[32], const char *pattern,
                             const char *type)
{
    redisReply *rep =
        type ? es_redis_cmd(m->r, "SCAN %s MATCH %s TYPE %s COUNT %s", cursor,
                            pattern, type, SCAN_COUNT)
             : es_redis_cmd(m->r, "SCAN %s MATCH %s COUNT %s", cursor, pattern,
                            SCAN_COUNT);

    rep = expect(rep, REDIS_REPLY_ARRAY, "SCAN");
    if (rep == NULL) {
        return NULL;
    }
    if (rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[0]->len >= 32 ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(expect(rep, -1, "SCAN"));
        return NULL;
    }
    memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
    return rep;
}

/* Counts the legacy record keys per tenant (adding the tenants of the
   set, with none). 0 or -1. */
static int discover(migrator *m)
{
    redisReply *rep = es_redis_cmd(m->r, "SMEMBERS %s", ES_KEY_TENANTS);
    char cursor[32] = "0";

    rep = expect(rep, REDIS_REPLY_ARRAY, "SMEMBERS");
    if (rep == NULL) {
        return -1;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type == REDIS_REPLY_STRING) {
            tenant_get(m, e->str, e->len);
        }
    }
    freeReplyObject(rep);
    do {
        const redisReply *keys;
        rep = scan_page(m, cursor, "es:{t:*}:c:*", NULL);
        if (rep == NULL || keep_lock(m) != 0) {
            freeReplyObject(rep);
            return -1;
        }
        keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            const redisReply *k = keys->element[i];
            size_t tn;
            tenant *t;
            if (k->type != REDIS_REPLY_STRING) {
                continue;
            }
            tn = key_tenant(k->str, k->len);
            if (tn == 0 || (t = tenant_get(m, k->str + 6, tn)) == NULL) {
                /* no tenant's: its scan will never see it */
                malformed(m, k->str, "not a record key (tenant id)");
                continue;
            }
            t->keys++; /* its comment id is checked by the tenant's scan */
            m->all_keys++;
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0 && !es_stopping());
    return 0;
}

/* The tenant's retention in seconds, from its meta (as topics.c reads it). */
static long long retention_s(migrator *m, const char *prefix)
{
    redisReply *rep = es_redis_cmd(m->r, "HGET %smeta retention_days", prefix);
    long long days = RETENTION_DAYS;

    if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
        days = strtoll(rep->str, NULL, 10);
    }
    freeReplyObject(rep);
    return (days < 1 || days > 3650 ? RETENTION_DAYS : days) * 86400;
}

/* ---- one chunk ---- */

typedef struct {
    tenant *t;
    char prefix[96];
    long long ret; /* retention, s */
    long long changed;
    int defer;          /* the first round: Comprehend records wait */
    long long deferred; /* how many waited */
} tenant_run;

/*
 * The eight arguments of the record in m->lg (text its stored JSON, borrowed
 * from the read's reply), now_s the time of the call. -1 out of memory.
 */
static int add_record(migrator *m, const tenant_run *tr, const redisReply *text,
                      long long now_s)
{
    const es_legacy *l = m->lg;
    const es_enrich_entry *en = &l->en;
    es_topic_set ts;
    es_sentiment vader = l->st;
    char hour[11], entry[ES_RECORD_ENTRY_MAX], ref[ES_RECORD_TITLE_REF_MAX];
    long long sec = en->created_ms / 1000;

    /* the record's topics as the writer takes them: a topic table and
       the pairs that index it */
    memset(&ts, 0, sizeof(ts));
    for (size_t i = 0; i < l->ntopics; i++) {
        snprintf(m->topics[i].id, sizeof(m->topics[i].id), "%s", l->topics[i]);
        m->pairs[i].topic = (uint32_t)i;
    }
    ts.topics = m->topics;
    ts.ntopics = l->ntopics;
    if (l->engine[0] == 'c') {
        /* the public part holds VADER's sentiment, which a Comprehend
           record never had */
        vader = es_vader_score(m->v, en->body.s, en->body.n);
        m->st->rescored++;
    }
    es_record_tenant(&m->tw, &ts, en, &l->st, l->engine, l->cs, m->pairs, 0,
                     l->ntopics);
    es_record_public(&m->pw, en, &vader);
    if (m->tw.oom || m->pw.oom) {
        return -1;
    }
    es_record_hour(en->t, hour);
    es_argbuf_ref(&m->args, text->str, text->len);
    es_argbuf_str(&m->args, hour);
    es_argbuf_str(&m->args, en->id);
    es_argbuf_copy(&m->args, m->tw.buf, m->tw.len);
    es_argbuf_copy(&m->args, m->pw.buf, m->pw.len);
    if (en->link_title.n > 0) {
        es_argbuf_copy(&m->args, ref, es_record_title_ref(en, ref));
        m->xw.len = 0;
        m->xw.oom = 0;
        es_jsonw_esc(&m->xw, en->link_title.s, en->link_title.n);
        if (m->xw.oom) {
            return -1;
        }
        es_argbuf_copy(&m->args, m->xw.buf, m->xw.len);
    } else {
        es_argbuf_str(&m->args, "");
        es_argbuf_str(&m->args, "");
    }
    if (sec >= now_s - tr->ret) {
        es_argbuf_copy(
            &m->args, entry,
            es_record_recent_entry(entry, en->id, l->st.label, en->created_ms));
    } else {
        es_argbuf_str(&m->args, "");
        m->st->old++;
    }
    return 0;
}

/* a tombstone's arguments: dropped while it still holds text */
static void add_drop(migrator *m, const redisReply *text, const char *id)
{
    es_argbuf_ref(&m->args, text->str, text->len);
    es_argbuf_str(&m->args, "");
    es_argbuf_str(&m->args, id);
    for (int i = 0; i < 5; i++) {
        es_argbuf_str(&m->args, "");
    }
}

/* Adds the call's reply {converted, existed, dropped, changed, public
   new, public differing} to the counts. 0 or -1. */
static int count_reply(migrator *m, tenant_run *tr, redisReply *rep)
{
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
        strstr(rep->str, "lock lost") != NULL) {
        m->lost = 1;
    }
    rep = expect(rep, REDIS_REPLY_ARRAY, "es_enrich_migrate");
    if (rep == NULL) {
        return -1;
    }
    if (rep->elements != 6) {
        freeReplyObject(expect(rep, -1, "es_enrich_migrate"));
        return -1;
    }
    m->st->converted += rep->element[0]->integer;
    m->st->existed += rep->element[1]->integer;
    m->st->tombstones += rep->element[2]->integer;
    m->st->changed += rep->element[3]->integer;
    tr->changed += rep->element[3]->integer;
    m->st->public_new += rep->element[4]->integer;
    m->st->public_diff += rep->element[5]->integer;
    if (rep->element[5]->integer > 0) {
        es_log(ES_INFO,
               "schema migration: a public part already stored differs "
               "from a tenant's record; the stored one is kept",
               ES_STR("tenant", tr->t->id),
               ES_INT("parts", rep->element[5]->integer), ES_END);
    }
    freeReplyObject(rep);
    m->renewed = es_mono_ms();
    return 0;
}

/* The MGET of keys: a new reply of as many values, or NULL. */
static redisReply *read_values(migrator *m, redisReply **pages, size_t np,
                               size_t nkeys)
{
    size_t n = 0;
    redisReply *rep;

    if (nkeys + 1 > m->mcap) {
        size_t nc = nkeys + 1;
        const char **v = realloc(m->mv, nc * sizeof(*v));
        size_t *l;
        if (v == NULL) {
            return NULL;
        }
        m->mv = v;
        l = realloc(m->ml, nc * sizeof(*l));
        if (l == NULL) {
            return NULL;
        }
        m->ml = l;
        m->mcap = nc;
    }
    m->mv[n] = "MGET";
    m->ml[n++] = 4;
    for (size_t p = 0; p < np; p++) {
        const redisReply *keys = pages[p]->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            m->mv[n] = keys->element[i]->str;
            m->ml[n++] = keys->element[i]->len;
        }
    }
    rep = es_redis_argv(m->r, (int)n, m->mv, m->ml);
    rep = expect(rep, REDIS_REPLY_ARRAY, "MGET");
    if (rep != NULL && rep->elements != nkeys) {
        freeReplyObject(expect(rep, -1, "MGET"));
        return NULL;
    }
    return rep;
}

static void progress(migrator *m, const tenant_run *tr, int last)
{
    long long now = es_mono_ms(), el = now - m->t0;

    if (!last && now - m->last_log < PROGRESS_MS) {
        return;
    }
    m->last_log = now;
    es_log(ES_INFO,
           last ? "schema migration: tenant done"
                : "schema migration: progress",
           ES_STR("tenant", tr->t->id), ES_INT("read", m->tenant_done),
           ES_INT("of", tr->t->keys), ES_INT("records", m->st->records),
           ES_INT("converted", m->st->converted),
           ES_INT("records_per_s", el > 0 ? m->st->records * 1000 / el : 0),
           ES_END);
}

/* a / b rounded up, at least 1 */
static long long ceil_ratio(long long a, long long b)
{
    return a > b ? (a + b - 1) / b : 1;
}

/* a record of the window: its creation hour and its first argument */
typedef struct rec_ref {
    char hour[11]; /* "" for a tombstone */
    size_t arg;    /* index of its first argument in m->args */
    size_t n;      /* records of the window of that hour */
} rec_ref;

static int by_hour(const void *a, const void *b)
{
    const rec_ref *x = a, *y = b;
    int c = strcmp(x->hour, y->hour);

    return c != 0 ? c : (x->arg > y->arg) - (x->arg < y->arg);
}

/* Parses the window's values (vals, for the keys of pages[0, np)) into
   the records' arguments in m->args and their refs. 0 or -1. */
static int parse_window(migrator *m, tenant_run *tr, redisReply **pages,
                        size_t np, const redisReply *vals, long long now_s)
{
    size_t k = 0;

    es_argbuf_reset(&m->args);
    m->nrefs = 0;
    for (size_t p = 0; p < np; p++) {
        const redisReply *keys = pages[p]->element[1];
        for (size_t i = 0; i < keys->elements; i++, k++) {
            const redisReply *key = keys->element[i], *v = vals->element[k];
            const char *why;
            es_legacy_kind kind;
            rec_ref *ref;
            char id[16];
            size_t tn;

            m->tenant_done++;
            if (key->type != REDIS_REPLY_STRING ||
                legacy_key(key->str, key->len, &tn, id) != 0) {
                /* matched the pattern, but names no comment id */
                malformed(m, key->str, "not a record key (comment id)");
                continue;
            }
            if (v->type != REDIS_REPLY_STRING) {
                m->st->records++;
                m->st->vanished++; /* expired since the scan */
                continue;
            }
            ref = &m->refs[m->nrefs];
            ref->arg = es_argbuf_count(&m->args);
            kind = es_legacy_parse(m->lg, id, v->str, v->len, &why);
            if (kind == ES_LEGACY_RECORD && tr->defer &&
                m->lg->engine[0] == 'c') {
                es_legacy_clear(m->lg);
                tr->deferred++;
                continue;
            }
            m->st->records++;
            switch (kind) {
            case ES_LEGACY_TOMBSTONE:
                add_drop(m, v, id);
                ref->hour[0] = '\0';
                m->nrefs++;
                break;
            case ES_LEGACY_MALFORMED:
                malformed(m, key->str, why);
                break;
            default:
                es_record_hour(m->lg->en.t, ref->hour);
                if (add_record(m, tr, v, now_s) != 0) {
                    es_legacy_clear(m->lg);
                    return -1;
                }
                es_legacy_clear(m->lg);
                m->nrefs++;
            }
        }
    }
    return es_argbuf_finish(&m->args);
}

/* Sets each ref's n: how many records of the window share its hour. */
static void hour_counts(rec_ref *refs, size_t n)
{
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s; e < n && strcmp(refs[e].hour, refs[s].hour) == 0; e++) {
        }
        for (size_t i = s; i < e; i++) {
            refs[i].n = e - s;
        }
    }
}

/*
 * The calls of a parsed window: CHUNK records a call, in hour order, each
 * with its hours' split estimates: what the migration will write into the
 * hour (the window's records of it times the tenant's records over the
 * window's, and the same over every tenant's for the shared public
 * buckets). 0, 1 stopping, or -1.
 */
static int send_window(migrator *m, tenant_run *tr, size_t nkeys,
                       long long now_s)
{
    long long ft = ceil_ratio(tr->t->keys, (long long)nkeys);
    long long fp = ceil_ratio(m->all_keys, (long long)nkeys);
    char nums[3][ES_FMT_LL_MAX + 1];

    nums[0][es_fmt_ll(nums[0], ES_MIGRATE_LOCK_MS)] = '\0';
    nums[1][es_fmt_ll(nums[1], now_s)] = '\0';
    nums[2][es_fmt_ll(nums[2], tr->ret)] = '\0';
    qsort(m->refs, m->nrefs, sizeof(*m->refs), by_hour);
    hour_counts(m->refs, m->nrefs);
    for (size_t s = 0; s < m->nrefs; s += CHUNK) {
        size_t e = s + CHUNK < m->nrefs ? s + CHUNK : m->nrefs, n = 0;
        size_t nh = 0, nhi;
        const char *head[10] = {"FCALL",   "es_enrich_migrate",
                                "0",       ES_KEY_SCHEMA_LOCK,
                                m->token,  nums[0],
                                "records", tr->prefix,
                                nums[1],   nums[2]};
        redisReply *rep;

        for (; n < 10; n++) {
            m->cv[n] = head[n];
            m->cl[n] = strlen(head[n]);
        }
        nhi = n++; /* the number of hours, set below */
        for (size_t r = s; r < e; r++) {
            const rec_ref *x = &m->refs[r];
            char *et = m->est[2 * nh], *ep = m->est[2 * nh + 1];
            if (x->hour[0] == '\0' ||
                (r > s && strcmp(x->hour, m->refs[r - 1].hour) == 0)) {
                continue;
            }
            et[es_fmt_ll(et, (long long)x->n * ft)] = '\0';
            ep[es_fmt_ll(ep, (long long)x->n * fp)] = '\0';
            m->cv[n] = x->hour;
            m->cl[n++] = strlen(x->hour);
            m->cv[n] = et;
            m->cl[n++] = strlen(et);
            m->cv[n] = ep;
            m->cl[n++] = strlen(ep);
            nh++;
        }
        m->est[2 * CHUNK][es_fmt_ll(m->est[2 * CHUNK], (long long)nh)] = '\0';
        m->cv[nhi] = m->est[2 * CHUNK];
        m->cl[nhi] = strlen(m->est[2 * CHUNK]);
        for (size_t r = s; r < e; r++) {
            for (size_t a = 0; a < 8; a++, n++) {
                m->cv[n] = m->args.argv[m->refs[r].arg + a];
                m->cl[n] = m->args.lens[m->refs[r].arg + a];
            }
        }
        rep = es_redis_argv(m->r, (int)n, m->cv, m->cl);
        if (count_reply(m, tr, rep) != 0) {
            return -1;
        }
        progress(m, tr, 0);
        if (es_stopping()) {
            return 1;
        }
    }
    return keep_lock(m);
}

/*
 * One window: the keys of pages[0, np), read with one MGET, converted,
 * sorted by creation hour and sent CHUNK records a call. Sorted, a call
 * spans a few hours instead of all of them, so the hours' keys (buckets,
 * splits, recent texts), each costing the call a command or more, are
 * touched by few calls. 0, 1 stopping, or -1.
 */
static int window(migrator *m, tenant_run *tr, redisReply **pages, size_t np)
{
    size_t nkeys = 0;
    long long now_s = es_now_ms() / 1000;
    redisReply *vals;
    int rc;

    for (size_t p = 0; p < np; p++) {
        nkeys += pages[p]->element[1]->elements;
    }
    if (nkeys == 0) {
        return keep_lock(m);
    }
    if (nkeys > m->refcap) {
        rec_ref *r = realloc(m->refs, nkeys * sizeof(*r));
        if (r == NULL) {
            es_log(ES_ERROR, "schema migration: out of memory", ES_END);
            return -1;
        }
        m->refs = r;
        m->refcap = nkeys;
    }
    vals = read_values(m, pages, np, nkeys);
    if (vals == NULL) {
        return -1;
    }
    rc = parse_window(m, tr, pages, np, vals, now_s);
    if (rc != 0) {
        es_log(ES_ERROR, "schema migration: out of memory", ES_END);
    } else {
        rc = send_window(m, tr, nkeys, now_s);
    }
    freeReplyObject(vals);
    return rc;
}

/* ---- one tenant ---- */

/* Deletes the sorted sets of pattern (schema-1 recent sets). 0 or -1. */
static int drop_recent(migrator *m, const char *pattern)
{
    char cursor[32] = "0";

    do {
        redisReply *rep = scan_page(m, cursor, pattern, "zset"), *del;
        const redisReply *keys;
        if (rep == NULL || keep_lock(m) != 0) {
            freeReplyObject(rep);
            return -1;
        }
        keys = rep->element[1];
        if (keys->elements > 0) {
            const char **argv = calloc(keys->elements + 1, sizeof(*argv));
            size_t *lens = calloc(keys->elements + 1, sizeof(*lens));
            if (argv == NULL || lens == NULL) {
                free(argv);
                free(lens);
                freeReplyObject(rep);
                return -1;
            }
            argv[0] = "UNLINK";
            lens[0] = 6;
            for (size_t i = 0; i < keys->elements; i++) {
                argv[i + 1] = keys->element[i]->str;
                lens[i + 1] = keys->element[i]->len;
            }
            del =
                expect(es_redis_argv(m->r, (int)keys->elements + 1, argv, lens),
                       REDIS_REPLY_INTEGER, "UNLINK");
            free(argv);
            free(lens);
            if (del == NULL) {
                freeReplyObject(rep);
                return -1;
            }
            m->st->recent_sets += del->integer;
            freeReplyObject(del);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* One scan of the tenant's legacy records, a chunk at a time. 0 or -1. */
static int tenant_pass(migrator *m, tenant_run *tr, const char *pattern)
{
    redisReply *pages[PAGES_MAX];
    size_t np = 0, nkeys = 0;
    char cursor[32] = "0";
    int rc = 0;

    do {
        redisReply *rep = scan_page(m, cursor, pattern, NULL);
        if (rep == NULL) {
            rc = -1;
            break;
        }
        pages[np++] = rep;
        nkeys += rep->element[1]->elements;
        if (nkeys >= WINDOW || np == PAGES_MAX || strcmp(cursor, "0") == 0) {
            rc = window(m, tr, pages, np);
            while (np > 0) {
                freeReplyObject(pages[--np]);
            }
            nkeys = 0;
        }
        if (es_stopping()) {
            rc = 1;
        }
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    while (np > 0) {
        freeReplyObject(pages[--np]);
    }
    return rc;
}

/*
 * One round of one tenant: in the first (defer) its VADER records and
 * tombstones, in the second its Comprehend records. 0, 1 stopping, or -1.
 */
static int migrate_tenant(migrator *m, tenant *t, int defer)
{
    tenant_run tr;
    char pattern[128];
    int rc = 0;

    memset(&tr, 0, sizeof(tr));
    tr.t = t;
    tr.defer = defer;
    es_tenant_prefix(tr.prefix, sizeof(tr.prefix), t->id);
    tr.ret = retention_s(m, tr.prefix);
    m->tenant_done = 0;
    if (t->keys > 0) {
        es_log(ES_INFO, "schema migration: tenant", ES_STR("tenant", t->id),
               ES_STR("round", defer ? "vader" : "comprehend"),
               ES_INT("keys", t->keys),
               ES_INT("retention_days", tr.ret / 86400), ES_END);
        snprintf(pattern, sizeof(pattern), "%s%s*", tr.prefix,
                 ES_KEY_LEGACY_RECORD);
        for (int pass = 0; pass < PASSES; pass++) {
            tr.changed = 0;
            tr.deferred = 0;
            rc = tenant_pass(m, &tr, pattern);
            if (rc != 0 || tr.changed == 0) {
                break;
            }
            es_log(ES_WARN,
                   "schema migration: records changed while being "
                   "migrated (is a worker of schema 1 still running?); "
                   "scanning the tenant again",
                   ES_STR("tenant", t->id), ES_INT("changed", tr.changed),
                   ES_END);
        }
        if (rc != 0) {
            return rc;
        }
    }
    t->deferred = tr.deferred;
    if (t->deferred > 0) {
        return 0; /* the second round ends the tenant */
    }
    snprintf(pattern, sizeof(pattern), "%s%s*", tr.prefix,
             ES_KEY_LEGACY_RECENT);
    rc = drop_recent(m, pattern);
    if (rc == 0 && t->keys > 0) {
        progress(m, &tr, 1);
    }
    return rc;
}

/* ---- the whole migration ---- */

/* Migrates everything while holding the lock. 0, 1 stopping, -1 failed. */
static int migrate_all(migrator *m)
{
    int rc = discover(m);

    if (rc != 0) {
        return es_stopping() ? 1 : -1;
    }
    es_log(ES_INFO, "schema migration: started",
           ES_INT("tenants", (long long)m->nt), ES_INT("records", m->all_keys),
           ES_END);
    /* VADER records first: a public part holds VADER's sentiment, which
       a VADER record has as its series counted it, and a Comprehend record
       has only as the body scored now; where tenants share a comment,
       the part written first stays, so it should be the one counted */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < m->nt && rc == 0; i++) {
            if (round == 0) {
                m->st->tenants++;
            } else if (m->t[i].deferred == 0) {
                continue;
            }
            rc = migrate_tenant(m, &m->t[i], round == 0);
            if (rc == 0 && es_stopping()) {
                rc = 1;
            }
        }
    }
    /* recent sets of tenants no longer in the set and with no record */
    if (rc == 0) {
        rc = drop_recent(m, "es:{t:*}:" ES_KEY_LEGACY_RECENT "*");
    }
    if (rc != 0) {
        return rc;
    }
    return lock_reply(
        m, es_redis_cmd(m->r, "FCALL es_enrich_migrate 0 %s %s %d done %s %s",
                        ES_KEY_SCHEMA_LOCK, m->token, ES_MIGRATE_LOCK_MS,
                        ES_KEY_SCHEMA_VERSION, ES_SCHEMA_CURRENT));
}

/* The stored schema version: 1, 2, or 0 for another (-1: no answer). */
static int stored_version(migrator *m, char *text, size_t size)
{
    redisReply *rep = es_redis_cmd(m->r, "GET %s", ES_KEY_SCHEMA_VERSION);
    int v = -1;

    snprintf(text, size, "(none)");
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        v = 1;
    } else if (rep->type == REDIS_REPLY_STRING) {
        snprintf(text, size, "%s", rep->str);
        v = strcmp(rep->str, "1") == 0                 ? 1
            : strcmp(rep->str, ES_SCHEMA_CURRENT) == 0 ? 2
                                                       : 0;
    }
    freeReplyObject(rep);
    return v;
}

/* Takes the lock: 1 taken, 0 held by another (its token in holder). */
static int take_lock(migrator *m, char *holder, size_t size)
{
    redisReply *rep =
        es_redis_cmd(m->r, "SET %s %s NX PX %d", ES_KEY_SCHEMA_LOCK, m->token,
                     ES_MIGRATE_LOCK_MS);
    int taken = rep != NULL && rep->type == REDIS_REPLY_STATUS;

    freeReplyObject(rep);
    if (taken) {
        return 1;
    }
    rep = es_redis_cmd(m->r, "GET %s", ES_KEY_SCHEMA_LOCK);
    if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
        snprintf(holder, size, "%s", rep->str);
    }
    freeReplyObject(rep);
    return 0;
}

static void log_summary(const migrator *m)
{
    const es_migrate_stats *s = m->st;

    es_log(ES_INFO, "schema migration done",
           ES_STR("schema", ES_SCHEMA_CURRENT), ES_INT("tenants", s->tenants),
           ES_INT("records", s->records), ES_INT("converted", s->converted),
           ES_INT("already_schema2", s->existed),
           ES_INT("tombstones_dropped", s->tombstones),
           ES_INT("malformed", s->malformed), ES_INT("vanished", s->vanished),
           ES_INT("changed", s->changed), ES_INT("beyond_retention", s->old),
           ES_INT("comprehend_rescored", s->rescored),
           ES_INT("public_parts", s->public_new),
           ES_INT("public_differing", s->public_diff),
           ES_INT("recent_sets_deleted", s->recent_sets), ES_INT("ms", s->ms),
           ES_INT("records_per_s", s->ms > 0 ? s->records * 1000 / s->ms : 0),
           ES_END);
}

static void migrator_free(migrator *m)
{
    es_legacy_clear(m->lg);
    free(m->lg);
    free(m->t);
    free(m->topics);
    free(m->pairs);
    free(m->mv);
    free(m->ml);
    free(m->refs);
    free(m->cv);
    free(m->cl);
    free(m->est);
    es_jsonw_free(&m->tw);
    es_jsonw_free(&m->pw);
    es_jsonw_free(&m->xw);
    es_argbuf_free(&m->args);
}

/* One migration under the lock just taken: 0, 1 stopping, -1 failed;
   m->lost when the lock was taken over meanwhile. */
static int migrate_locked(es_redis *r, const es_vader *v, const char *token,
                          es_migrate_stats *st, int *lost)
{
    migrator m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.r = r;
    m.v = v;
    m.st = st;
    m.renewed = es_mono_ms();
    snprintf(m.token, sizeof(m.token), "%s", token);
    es_argbuf_init(&m.args);
    m.lg = calloc(1, sizeof(*m.lg));
    m.topics = calloc(ES_LEGACY_TOPICS_MAX, sizeof(*m.topics));
    m.pairs = calloc(ES_LEGACY_TOPICS_MAX, sizeof(*m.pairs));
    m.cv = calloc(CALL_ARGS, sizeof(*m.cv));
    m.cl = calloc(CALL_ARGS, sizeof(*m.cl));
    m.est = calloc(2 * CHUNK + 1, sizeof(*m.est));
    if (m.lg == NULL || m.topics == NULL || m.pairs == NULL || m.cv == NULL ||
        m.cl == NULL || m.est == NULL) {
        es_log(ES_ERROR, "schema migration: out of memory", ES_END);
        migrator_free(&m);
        return -1;
    }
    memset(st, 0, sizeof(*st));
    m.t0 = m.last_log = es_mono_ms();
    rc = migrate_all(&m);
    st->ms = es_mono_ms() - m.t0;
    *lost = m.lost;
    if (rc == 0) {
        st->migrated = 1;
        log_summary(&m);
    } else if (!m.lost) {
        /* stopped or failed: the next worker to start resumes */
        lock_op(&m, "release");
        es_log(rc > 0 ? ES_INFO : ES_ERROR,
               rc > 0 ? "schema migration stopped; the next start resumes it"
                      : "schema migration failed; the next start resumes it",
               ES_INT("records", st->records),
               ES_INT("converted", st->converted), ES_END);
    }
    migrator_free(&m);
    return rc;
}

int es_migrate_run(es_redis *r, const es_vader *v, const char *instance,
                   es_migrate_stats *st)
{
    migrator m; /* for the version and lock calls only */
    long long logged = 0;
    char token[160], ver[64], holder[160];

    memset(&m, 0, sizeof(m));
    memset(st, 0, sizeof(*st));
    m.r = r;
    snprintf(token, sizeof(token), "%s:%lld", instance, es_now_ms());
    snprintf(m.token, sizeof(m.token), "%s", token);
    for (;;) {
        int ver_n = stored_version(&m, ver, sizeof(ver)), lost = 0, rc;

        if (ver_n < 0) {
            return 1; /* stopping, Redis unreachable */
        }
        if (ver_n == 2) {
            if (logged) {
                es_log(ES_INFO, "schema migration finished by another worker",
                       ES_STR("schema", ver), ES_END);
            }
            return 0;
        }
        if (ver_n == 0) {
            es_log(ES_ERROR,
                   "the stored data is of a schema this worker does not "
                   "know; not starting",
                   ES_STR("key", ES_KEY_SCHEMA_VERSION), ES_STR("stored", ver),
                   ES_STR("writes", ES_SCHEMA_CURRENT), ES_END);
            return -1;
        }
        holder[0] = '\0';
        if (take_lock(&m, holder, sizeof(holder))) {
            if (stored_version(&m, ver, sizeof(ver)) == 2) {
                /* another worker finished between the two looks */
                lock_op(&m, "release");
                continue;
            }
            rc = migrate_locked(r, v, token, st, &lost);
            if (!lost) {
                return rc;
            }
            es_log(ES_WARN,
                   "schema migration lock lost (it expired while this "
                   "worker was stalled); waiting for the worker that took "
                   "it over",
                   ES_END);
            continue;
        }
        if (es_mono_ms() - logged >= WAIT_LOG_MS) {
            es_log(ES_INFO,
                   "waiting for the schema migration of another worker",
                   ES_STR("holder", holder), ES_STR("schema", ver), ES_END);
            logged = es_mono_ms();
        }
        es_sleep_ms(WAIT_MS);
        if (es_stopping()) {
            return 1;
        }
    }
}
