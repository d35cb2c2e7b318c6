/*
 * dump_comment.c - a dump line to an es_comment (see dump_comment.h).
 *
 * One es_jscan pass records the raw spans of the nine interesting members;
 * as soon as the subreddit member has been seen an unwatched line is
 * dropped, so most lines of a month dump cost only the scan up to their
 * subreddit. Strings without escapes are used in place (zero copy); only
 * escaped ones are decoded, into scratch space sized from the line, which
 * bounds the decoded total (no escape decodes longer than it is written).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dump_comment.h"
#include "es_ids.h"
#include "es_jscan.h"

enum {
    F_ID = 0,
    F_SUBREDDIT,
    F_AUTHOR,
    F_BODY,
    F_CREATED,
    F_PERMALINK,
    F_LINK_ID,
    F_LINK_TITLE,
    F_SCORE,
    F_COUNT
};

/* Which field a key names, or -1; compared by length first (hot path). */
static int field_of(const es_jscan_member *m)
{
    if (m->key_escaped) {
        return -1;
    }
    switch (m->key_len) {
    case 2:
        return memcmp(m->key, "id", 2) == 0 ? F_ID : -1;
    case 4:
        return memcmp(m->key, "body", 4) == 0 ? F_BODY : -1;
    case 5:
        return memcmp(m->key, "score", 5) == 0 ? F_SCORE : -1;
    case 6:
        return memcmp(m->key, "author", 6) == 0 ? F_AUTHOR : -1;
    case 7:
        return memcmp(m->key, "link_id", 7) == 0 ? F_LINK_ID : -1;
    case 9:
        if (memcmp(m->key, "subreddit", 9) == 0) {
            return F_SUBREDDIT;
        }
        return memcmp(m->key, "permalink", 9) == 0 ? F_PERMALINK : -1;
    case 10:
        return memcmp(m->key, "link_title", 10) == 0 ? F_LINK_TITLE : -1;
    case 11:
        return memcmp(m->key, "created_utc", 11) == 0 ? F_CREATED : -1;
    default:
        return -1;
    }
}

static int reserve(es_dump_parser *p, size_t need)
{
    char *nb;

    if (p->cap >= need) {
        return 0;
    }
    nb = realloc(p->buf, need);
    if (nb == NULL) {
        return -1;
    }
    p->buf = nb;
    p->cap = need;
    return 0;
}

/*
 * A string member as an es_strv: in place when unescaped, else decoded at
 * *used in the scratch space. -1 when the escape is malformed.
 */
static int string_of(es_dump_parser *p, const es_jscan_member *m, size_t *used,
                     es_strv *out)
{
    size_t len;

    if (!m->val_escaped) {
        out->s = m->val;
        out->n = m->val_len;
        return 0;
    }
    len = es_jscan_unescape(m->val, m->val_len, p->buf + *used, p->cap - *used);
    if (len == (size_t)-1) {
        return -1;
    }
    out->s = p->buf + *used;
    out->n = len;
    *used += len + 1;
    return 0;
}

/* A number, or a string holding one (old dumps). 0 or -1. */
static int number_of(const es_jscan_member *m, double *out)
{
    char *end;
    double v;

    if (m->type != ES_JSON_NUMBER && m->type != ES_JSON_STRING) {
        return -1;
    }
    if (m->val_len == 0 || m->val_len > 40) {
        return -1;
    }
    /* the byte after the span is ',', '}', '"' or space: strtod stops */
    v = strtod(m->val, &end);
    if (end != m->val + m->val_len || !isfinite(v)) {
        return -1;
    }
    *out = v;
    return 0;
}

static es_dump_result malformed(es_dump_parser *p, const char *why)
{
    p->error = why;
    p->error_off = 0;
    return ES_DUMP_MALFORMED;
}

static int sub_watched(const es_jscan_member *m, const es_watchlist *wl)
{
    char raw[32], norm[24];
    size_t n = m->val_len;
    const char *s = m->val;

    if (m->val_escaped) {
        n = es_jscan_unescape(m->val, m->val_len, raw, sizeof(raw));
        if (n == (size_t)-1) {
            return 0;
        }
        s = raw;
    }
    if (es_subreddit_normalize(s, n, norm) != 0) {
        return 0;
    }
    return es_watchlist_contains(wl, norm, n);
}

/* /r/<sub>/comments/<link id without t3_>/_/<id>/ into the scratch space */
static void build_permalink(es_dump_parser *p, size_t *used,
                            const es_comment *c, es_strv *out)
{
    const char *link = c->link_id.s;
    size_t ln = c->link_id.n;
    char *o = p->buf + *used;
    size_t k = 0;

    if (ln > 3 && memcmp(link, "t3_", 3) == 0) {
        link += 3;
        ln -= 3;
    }
    memcpy(o + k, "/r/", 3);
    k += 3;
    memcpy(o + k, c->subreddit.s, c->subreddit.n);
    k += c->subreddit.n;
    memcpy(o + k, "/comments/", 10);
    k += 10;
    memcpy(o + k, link, ln);
    k += ln;
    memcpy(o + k, "/_/", 3);
    k += 3;
    memcpy(o + k, c->id.s, c->id.n);
    k += c->id.n;
    o[k++] = '/';
    o[k] = '\0';
    out->s = o;
    out->n = k;
    *used += k + 1;
}

es_dump_result es_dump_comment_parse(es_dump_parser *p, const char *line,
                                     size_t n, const es_watchlist *wl,
                                     es_comment *c)
{
    es_jscan_member f[F_COUNT], m;
    unsigned seen = 0;
    size_t used = 0;
    es_jscan s;
    int rc, k;

    if (wl != NULL && es_watchlist_all(wl)) {
        wl = NULL;
    }
    es_jscan_init(&s, line, n);
    for (;;) {
        rc = es_jscan_next(&s, &m);
        if (rc != 1) {
            break;
        }
        k = field_of(&m);
        if (k < 0) {
            continue;
        }
        f[k] = m;
        seen |= 1u << k;
        if (k == F_SUBREDDIT && wl != NULL) {
            if (m.type != ES_JSON_STRING) {
                return malformed(p, "subreddit is not a string");
            }
            if (!sub_watched(&m, wl)) {
                return ES_DUMP_FILTERED;
            }
        }
    }
    if (rc < 0) {
        p->error = es_jscan_error(&s, &p->error_off);
        return ES_DUMP_MALFORMED;
    }
    if (!(seen & (1u << F_ID)) || f[F_ID].type != ES_JSON_STRING) {
        return malformed(p, "no string id");
    }
    if (!(seen & (1u << F_SUBREDDIT)) ||
        f[F_SUBREDDIT].type != ES_JSON_STRING) {
        return malformed(p, "no string subreddit");
    }
    if (!(seen & (1u << F_BODY)) || f[F_BODY].type != ES_JSON_STRING) {
        return malformed(p, "no string body");
    }
    memset(c, 0, sizeof(*c));
    c->source = "backfill";
    if (!(seen & (1u << F_CREATED)) ||
        number_of(&f[F_CREATED], &c->created_utc) != 0 || c->created_utc < 0) {
        return malformed(p, "no valid created_utc");
    }
    if (reserve(p, 2 * n + 128) != 0) {
        return malformed(p, "out of memory");
    }
    if (string_of(p, &f[F_ID], &used, &c->id) != 0 ||
        string_of(p, &f[F_SUBREDDIT], &used, &c->subreddit) != 0 ||
        string_of(p, &f[F_BODY], &used, &c->body) != 0) {
        return malformed(p, "bad string escape");
    }
    c->author.s = "[deleted]";
    c->author.n = 9;
    c->link_id.s = c->link_title.s = c->permalink.s = "";
    if (seen & (1u << F_AUTHOR) && f[F_AUTHOR].type == ES_JSON_STRING &&
        string_of(p, &f[F_AUTHOR], &used, &c->author) != 0) {
        return malformed(p, "bad string escape");
    }
    if (seen & (1u << F_LINK_ID) && f[F_LINK_ID].type == ES_JSON_STRING &&
        string_of(p, &f[F_LINK_ID], &used, &c->link_id) != 0) {
        return malformed(p, "bad string escape");
    }
    if (seen & (1u << F_LINK_TITLE) && f[F_LINK_TITLE].type == ES_JSON_STRING &&
        string_of(p, &f[F_LINK_TITLE], &used, &c->link_title) != 0) {
        return malformed(p, "bad string escape");
    }
    if (seen & (1u << F_PERMALINK) && f[F_PERMALINK].type == ES_JSON_STRING &&
        string_of(p, &f[F_PERMALINK], &used, &c->permalink) != 0) {
        return malformed(p, "bad string escape");
    }
    if (c->permalink.n == 0 && c->link_id.n > 0) {
        build_permalink(p, &used, c, &c->permalink);
    }
    if (seen & (1u << F_SCORE)) {
        double score;
        if (number_of(&f[F_SCORE], &score) == 0 && fabs(score) < 1e15) {
            c->score = (long long)score;
        }
    }
    return ES_DUMP_KEPT;
}

void es_dump_comment_cleanup(es_dump_parser *p)
{
    free(p->buf);
    p->buf = NULL;
    p->cap = 0;
}
