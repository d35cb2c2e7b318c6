/*
 * contrib.c - one comment's contribution to a write plan (see contrib.h).
 *
 * Keys come from the one table of tenant keys (es_keys.h) after the
 * tenant's prefix built once; field names are put together with memcpy:
 * a comment makes about twenty of them per topic, and this runs for every
 * matched comment of every batch.
 */
#include <stdlib.h>
#include <string.h>

#include "contrib.h"
#include "es_keys.h"
#include "es_schema.h"
#include "fmt.h"
#include "record.h"

static const char *label_field(es_label label)
{
    switch (label) {
    case ES_LABEL_POSITIVE:
        return "pos";
    case ES_LABEL_NEGATIVE:
        return "neg";
    case ES_LABEL_MIXED:
        return "mix";
    default:
        return "neu";
    }
}

/* Remembers slot s (or -1: out of memory) in the list. */
static void note(es_slotlist *sl, long s)
{
    if (s < 0) {
        return;
    }
    if (sl->n == sl->cap) {
        size_t nc = sl->cap ? sl->cap * 2 : 4096;
        uint32_t *p = realloc(sl->v, nc * sizeof(*p));
        if (p == NULL) {
            sl->oom = 1;
            return;
        }
        sl->v = p;
        sl->cap = nc;
    }
    sl->v[sl->n++] = (uint32_t)s;
}

void es_contrib_comment(es_contrib *c, const es_enrich_entry *en,
                        const char *const *topics, size_t n, es_label label,
                        long long cs, const es_terms *tm)
{
    c->id = en->id;
    c->topics = topics;
    c->ntopics = n;
    c->label = label;
    c->cs = cs;
    c->created_ms = en->created_ms;
    c->t = en->t;
    c->month_start = en->month_start;
    c->terms = tm->term;
    c->term_len = tm->len;
    c->nterms = tm->n;
}

void es_slotlist_free(es_slotlist *sl)
{
    free(sl->v);
    memset(sl, 0, sizeof(*sl));
}

static long long floor_div(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * A key of the tenant (es_keys.h) into key[512]: its length. The ids in it
 * are validated and at most 64 bytes each, so it always fits; were it not
 * to, the length is 0 and the plan sees an empty key, never a cut one.
 */
static size_t tenant_key(char *key, const char *prefix, size_t plen, es_tkey k,
                         const char *a1, const char *a2)
{
    int n = es_tenant_key_p(key, 512, prefix, plen, k, a1, a2);

    return n < 0 ? 0 : (size_t)n;
}

void es_contrib_plan(es_wplan *p, es_slotlist *sl, const char *prefix,
                     size_t plen, const es_contrib *c, int sign,
                     long long now_s, long long retention_s,
                     es_contrib_slots *out)
{
    const char *lf = label_field(c->label);
    long long sec = floor_div(c->created_ms, 1000);
    long long hour0 = sec - (sec - floor_div(sec, 3600) * 3600);
    long long day0 = sec - (sec - floor_div(sec, 86400) * 86400);
    /* the lifetimes of es_schema.h, fixed by the bucket */
    long long exps[3] = {hour0 + 3600 + ES_TTL_MINUTE,
                         day0 + 86400 + ES_TTL_HOUR,
                         c->month_start + 31 * 86400 + ES_TTL_DAY};
    long long sexp = day0 + 86400 + ES_TTL_DAY;
    static const es_tkey res[3] = {ES_TK_SERIES_MINUTE, ES_TK_SERIES_HOUR,
                                   ES_TK_SERIES_DAY};
    static const size_t klen[3] = {10, 8, 6}; /* bucket key: YYYYMMDD[HH] */
    /* a deletion takes the id out of the recent sets whatever its age */
    int recent = sign < 0 || sec >= now_s - retention_s;
    char kh = sign > 0 ? 'h' : 'H', kz = sign > 0 ? 'z' : 'Z';
    char ka = sign > 0 ? 'a' : 'A';
    /* a topic's recent entries of an hour live a retention after it, or
       after now when that is later */
    long long rexp =
        (hour0 + 3600 > now_s ? hour0 + 3600 : now_s) + retention_s;
    const char *t = c->t;
    char key[512], fld[64], hour[11], entry[ES_RECORD_ENTRY_MAX];
    size_t elen = es_record_recent_entry(entry, c->id, c->label, c->created_ms);
    size_t lflen = strlen(lf), n;
    int fresh;
    long k;

    es_record_hour(c->t, hour);
    out->first = sl->n;
    out->ncount = out->ncs = 0;
    /* pass 1: counts; pass 2: compound sums (the record's list order) */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->ntopics; i++) {
            const char *tid = c->topics[i];
            size_t tlen = strlen(tid);

            for (int r = 0; r < 3; r++) {
                const char *mm = t + klen[r];
                char part[12];
                if (exps[r] <= now_s) {
                    continue;
                }
                memcpy(part, t, klen[r]);
                part[klen[r]] = '\0';
                n = tenant_key(key, prefix, plen, res[r], tid, part);
                k = es_wplan_key(p, kh, key, n, exps[r], &fresh);
                if (k < 0) {
                    return;
                }
                fld[0] = mm[0];
                fld[1] = mm[1];
                fld[2] = ':';
                if (pass == 1) {
                    memcpy(fld + 3, "cs", 2);
                    note(sl, es_wplan_add(p, k, fld, 5, sign * c->cs));
                    continue;
                }
                fld[3] = 'n';
                note(sl, es_wplan_add(p, k, fld, 4, sign));
                memcpy(fld + 3, lf, lflen);
                note(sl, es_wplan_add(p, k, fld, 3 + lflen, sign));
            }
            if (pass == 1) {
                continue;
            }
            if (sexp > now_s) {
                char day[9];
                memcpy(day, t, 8);
                day[8] = '\0';
                n = tenant_key(key, prefix, plen, ES_TK_SOV, day, NULL);
                k = es_wplan_key(p, kh, key, n, sexp, &fresh);
                if (k >= 0) {
                    note(sl, es_wplan_add(p, k, tid, tlen, sign));
                }
            }
            if (exps[0] > now_s && c->nterms > 0) {
                char hour[11];
                memcpy(hour, t, 10);
                hour[10] = '\0';
                n = tenant_key(key, prefix, plen, ES_TK_TERMS, tid, hour);
                k = es_wplan_key(p, kz, key, n, exps[0], &fresh);
                for (size_t w = 0; k >= 0 && w < c->nterms; w++) {
                    note(sl,
                         es_wplan_add(p, k, c->terms[w], c->term_len[w], sign));
                }
            }
            if (!recent) {
                continue;
            }
            /* 'a': the entry, 1; 'A': -1 a deletion, summed (the function
               removes the entry while one applied remains) */
            n = tenant_key(key, prefix, plen, ES_TK_RECENT, tid, hour);
            k = es_wplan_key(p, ka, key, n, rexp, &fresh);
            if (k >= 0) {
                note(sl, es_wplan_add(p, k, entry, elen, sign));
            }
        }
        if (pass == 0) {
            out->ncount = sl->n - out->first;
        }
    }
    out->ncs = sl->n - out->first - out->ncount;
}

void es_contrib_meta(es_argbuf *b, es_jsonw *w, const es_wplan *p,
                     const es_slotlist *sl, const es_contrib_slots *cs,
                     long long v)
{
    char num[ES_FMT_LL_MAX + 2];
    size_t n = es_fmt_ll(num, v), total = cs ? cs->ncount + cs->ncs : 0;

    num[n++] = '|';
    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, num, n);
    for (size_t i = 0; i < total; i++) {
        uint32_t pos = p->slots[sl->v[cs->first + i]].pos;

        n = 0;
        if (i == cs->ncount) {
            num[n++] = '|';
        } else if (i > 0) {
            num[n++] = ' ';
        }
        n += es_fmt_ll(num + n, (long long)pos);
        es_jsonw_raw(w, num, n);
    }
    if (cs == NULL || cs->ncs == 0) {
        es_jsonw_raw(w, "|", 1);
    }
    if (w->oom) {
        b->oom = 1;
        return;
    }
    es_argbuf_copy(b, w->buf, w->len);
}
