/*
 * record.c - the stored per-comment record's two parts (see record.h).
 *
 * Field order and letters come from the record's tables (es_record.h).
 * The texts are built by hand rather than through jansson because every
 * matched comment makes one tenant part per tenant and one public part
 * (copying its body once more).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "es_record.h"
#include "es_time.h"
#include "fmt.h"
#include "record.h"

static void sep(es_jsonw *w)
{
    es_jsonw_raw(w, ES_RECORD_SEP_S, 1);
}

static void integer(es_jsonw *w, long long v)
{
    char buf[ES_FMT_LL_MAX];

    es_jsonw_raw(w, buf, es_fmt_ll(buf, v));
}

long long es_record_units4(double v)
{
    char buf[ES_FMT_FIXED4_MAX + 1];
    size_t n = es_fmt_fixed4(buf, v);
    long long k = 0;
    int neg = 0;

    /* the digits of the 4-decimal text, without its point: exactly the
       number the record showed when it was JSON */
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '-') {
            neg = 1;
        } else if (buf[i] >= '0' && buf[i] <= '9') {
            k = k * 10 + (buf[i] - '0');
        }
    }
    return neg ? -k : k;
}

char es_record_label_letter(es_label label)
{
    switch (label) {
    case ES_LABEL_POSITIVE:
        return 'p';
    case ES_LABEL_NEGATIVE:
        return 'n';
    case ES_LABEL_MIXED:
        return 'm';
    default:
        return 'u';
    }
}

void es_record_hour(const char *t, char hour[11])
{
    memcpy(hour, t, 10);
    hour[10] = '\0';
}

void es_record_hour_ms(long long ms, char hour[11])
{
    es_time_hour((int64_t)ms, hour);
}

/* the sentiment fields (label, cs, compound, neg, neu, pos), each after a
   separator */
static void sentiment(es_jsonw *w, const es_sentiment *st, long long cs)
{
    char letter = es_record_label_letter(st->label);
    long long compound = es_record_units4(st->compound);

    sep(w);
    es_jsonw_raw(w, &letter, 1);
    sep(w);
    integer(w, cs);
    sep(w);
    if (compound != cs) {
        integer(w, compound);
    }
    sep(w);
    integer(w, es_record_units4(st->neg));
    sep(w);
    integer(w, es_record_units4(st->neu));
    sep(w);
    integer(w, es_record_units4(st->pos));
}

/* v in base 36 */
static void base36(es_jsonw *w, long long v)
{
    char digits[16];
    size_t k = 0;

    do {
        digits[sizeof(digits) - 1 - k++] =
            "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v > 0 && k < sizeof(digits));
    es_jsonw_raw(w, digits + sizeof(digits) - k, k);
}

/* ms into the UTC hour of a time in ms */
static long long hour_offset(long long ms)
{
    long long off = ms % 3600000;

    return off < 0 ? off + 3600000 : off;
}

void es_record_tenant(es_jsonw *w, const es_topic_set *ts,
                      const es_enrich_entry *en, const es_sentiment *st,
                      const char *engine, long long cs,
                      const es_enrich_pair *pairs, size_t s, size_t e)
{
    w->len = 0;
    w->oom = 0;
    for (size_t i = s; i < e; i++) {
        const char *tid = ts->topics[pairs[i].topic].id;
        if (i > s) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_raw(w, tid, strlen(tid));
    }
    sep(w);
    es_jsonw_raw(w, engine, 1); /* "vader" v, "comprehend" c */
    sep(w);
    base36(w, hour_offset(en->created_ms));
    if (engine[0] == 'c') {
        /* the tenant's own sentiment; VADER's is the public part's */
        sentiment(w, st, cs);
    }
}

/* 1 when s[0..n) is made of [A-Za-z0-9_-] only (nothing JSON escapes) */
static int plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return n > 0;
}

/*
 * The "<post>/<slug>" of a permalink /r/<sub>/comments/<post>/<slug>/<id>/
 * of this comment (*n its length), or NULL when it has another form.
 */
static const char *post_slug(const es_enrich_entry *en, size_t *n)
{
    const char *p = en->permalink.s, *end, *mid;
    size_t len = en->permalink.n, sl = strlen(en->subreddit);
    size_t il = strlen(en->id);

    if (p == NULL || len < 3 + sl + 10 + 4 + il + 1 ||
        memcmp(p, "/r/", 3) != 0 || memcmp(p + 3, en->subreddit, sl) != 0 ||
        memcmp(p + 3 + sl, "/comments/", 10) != 0 || p[len - 1] != '/' ||
        memcmp(p + len - 1 - il, en->id, il) != 0 || p[len - 2 - il] != '/') {
        return NULL;
    }
    p += 3 + sl + 10;
    end = en->permalink.s + len - 2 - il;
    mid = memchr(p, '/', (size_t)(end - p));
    if (mid == NULL || !plain(p, (size_t)(mid - p)) ||
        !plain(mid + 1, (size_t)(end - mid - 1))) {
        return NULL;
    }
    *n = (size_t)(end - p);
    return p;
}

void es_record_public(es_jsonw *w, const es_enrich_entry *en,
                      const es_sentiment *vader)
{
    const char *ps;
    size_t pn;

    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, en->subreddit, strlen(en->subreddit));
    sep(w);
    es_jsonw_esc(w, en->author.s ? en->author.s : "", en->author.n);
    sep(w);
    es_jsonw_esc(w, en->score.s ? en->score.s : "", en->score.n);
    sep(w);
    if (en->link_title.n > 0) {
        char ref[ES_RECORD_TITLE_REF_MAX];
        es_jsonw_raw(w, "#", 1);
        es_jsonw_raw(w, ref, es_record_title_ref(en, ref));
    }
    sep(w);
    ps = post_slug(en, &pn);
    if (ps != NULL) {
        es_jsonw_raw(w, "~", 1);
        es_jsonw_raw(w, ps, pn);
    } else if (en->permalink.n > 0 && en->permalink.s[0] == '~') {
        /* a link starting with the mark: its '~' escaped (JSON allows) */
        es_jsonw_raw(w, "\\u007e", 6);
        es_jsonw_esc(w, en->permalink.s + 1, en->permalink.n - 1);
    } else {
        es_jsonw_esc(w, en->permalink.s ? en->permalink.s : "",
                     en->permalink.n);
    }
    sentiment(w, vader, es_record_cs(vader));
    sep(w);
    es_jsonw_esc(w, en->body.s ? en->body.s : "", en->body.n);
}

size_t es_record_title_ref(const es_enrich_entry *en, char *ref)
{
    uint64_t h = 14695981039346656037ULL;

    /* FNV-1a of the title's bytes: 48 bits, 12 hex digits */
    for (size_t i = 0; i < en->link_title.n; i++) {
        h ^= (unsigned char)en->link_title.s[i];
        h *= 1099511628211ULL;
    }
    for (int i = 11; i >= 0; i--) {
        ref[i] = "0123456789abcdef"[h & 15];
        h >>= 4;
    }
    ref[12] = '\0';
    return 12;
}

size_t es_record_recent_entry(char *buf, const char *id, es_label label,
                              long long created_ms)
{
    long long off = hour_offset(created_ms);
    char digits[16];
    size_t n = strlen(id), k = 0;

    memcpy(buf, id, n);
    buf[n++] = ':';
    buf[n++] = es_record_label_letter(label);
    do {
        digits[k++] = "0123456789abcdefghijklmnopqrstuvwxyz"[off % 36];
        off /= 36;
    } while (off > 0);
    while (k > 0) {
        buf[n++] = digits[--k];
    }
    buf[n++] = ';';
    buf[n] = '\0';
    return n;
}

const es_sentiment *es_record_sentiment(const es_entry_score *sco,
                                        const es_enrich_pair *pr,
                                        const char **engine)
{
    int cmp = pr->comprehend && sco->has_comprehend;

    *engine = cmp ? "comprehend" : "vader";
    return cmp ? &sco->comprehend : &sco->vader;
}

long long es_record_cs(const es_sentiment *st)
{
    return llround(st->compound * 10000.0);
}

void es_record_of(es_jsonw *w, const es_topic_set *ts,
                  const es_enrich_entry *en, const es_entry_score *sco,
                  const es_enrich_pair *pairs, size_t s, size_t e)
{
    const char *engine;
    const es_sentiment *st = es_record_sentiment(sco, &pairs[s], &engine);

    es_record_tenant(w, ts, en, st, engine, es_record_cs(st), pairs, s, e);
}
