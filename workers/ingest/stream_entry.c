/*
 * stream_entry.c - a comment as the fields of its stream entry (see
 * stream_entry.h).
 *
 * Built for every comment of a backfill, hundreds of thousands a second,
 * so the common case copies no text: a value that needs no cut and is
 * valid UTF-8 is used where it lies, and only a field that needs repair is
 * rewritten, into scratch space reserved once for the whole entry (so no
 * pointer handed out earlier moves). The time is printed as "%.3f" would,
 * by hand for whole seconds (what every dump and Reddit send): glibc's
 * floating-point printf costs more than the rest of the entry.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_entry.h"
#include "es_ids.h"
#include "es_utf8.h"

/* a field's text before repair: cut to its cap, and whether it is valid */
typedef struct {
    const char *s;
    size_t n;
    int valid;
} text;

static text text_of(const char *s, size_t n, size_t max)
{
    text t;

    if (s == NULL) {
        s = "";
        n = 0;
    }
    if (n > max) {
        n = es_utf8_cut(s, n, max);
    }
    t.s = n ? s : "";
    t.n = n;
    t.valid = n == 0 || es_utf8_valid(s, n);
    return t;
}

/* decimal digits of v into out (no NUL); returns their count */
static size_t put_u64(char *out, unsigned long long v)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

/* v as "%.3f" prints it */
static void put_created(char *out, size_t size, double v)
{
    /* whole seconds below 2^53 print exactly: digits and ".000" (not -0) */
    if (v >= 0 && !signbit(v) && v < 9007199254740992.0 &&
        v == (double)(unsigned long long)v) {
        size_t n = put_u64(out, (unsigned long long)v);
        memcpy(out + n, ".000", 5);
        return;
    }
    snprintf(out, size, "%.3f", v);
}

static void put_score(char *out, long long v)
{
    size_t n = 0;
    unsigned long long u = (unsigned long long)v;

    if (v < 0) {
        out[n++] = '-';
        u = 0 - u;
    }
    n += put_u64(out + n, u);
    out[n] = '\0';
}

static void field(es_entry *e, const char *name, const char *value, size_t len)
{
    es_entry_field *f = &e->f[e->nfields++];

    f->name = name;
    f->name_len = strlen(name);
    f->value = value;
    f->len = len;
}

const char *es_entry_build(es_entry *e, const es_comment *c)
{
    enum { AUTHOR, BODY, PERMALINK, LINK_ID, LINK_TITLE, SOURCE, NTEXT };
    static const char *const names[NTEXT] = {ES_F_AUTHOR,     ES_F_BODY,
                                             ES_F_PERMALINK,  ES_F_LINK_ID,
                                             ES_F_LINK_TITLE, ES_F_SOURCE};
    text t[NTEXT];
    int slot[NTEXT]; /* the field index of each text, -1 when left out */
    size_t repair = 0;
    const char *source = c->source ? c->source : "reddit";

    e->nfields = 0;
    if (c->id.s == NULL ||
        es_comment_id_parse(c->id.s, c->id.n, &e->id_num) != 0) {
        return "invalid comment id";
    }
    if (c->subreddit.s == NULL ||
        es_subreddit_normalize(c->subreddit.s, c->subreddit.n, e->sub) != 0) {
        return "invalid subreddit name";
    }
    e->deleted = c->body.s && es_comment_body_is_deleted(c->body.s, c->body.n);
    es_comment_id_format(e->id_num, e->id);
    field(e, ES_F_ID, e->id, strlen(e->id));
    field(e, ES_F_SUBREDDIT, e->sub, strlen(e->sub));
    for (int i = 0; i < NTEXT; i++) {
        slot[i] = -1;
    }
    t[SOURCE] = text_of(source, strlen(source), ES_ENTRY_FIELD_MAX);
    if (!e->deleted) {
        t[AUTHOR] = text_of(c->author.s, c->author.n, 64);
        t[BODY] = text_of(c->body.s, c->body.n, ES_ENTRY_BODY_MAX);
        t[PERMALINK] = text_of(c->permalink.s, c->permalink.n, 512);
        t[LINK_ID] = text_of(c->link_id.s, c->link_id.n, 32);
        t[LINK_TITLE] =
            text_of(c->link_title.s, c->link_title.n, ES_ENTRY_FIELD_MAX);
        put_created(e->created, sizeof(e->created), c->created_utc);
        put_score(e->score, c->score);
        slot[AUTHOR] = e->nfields;
        field(e, names[AUTHOR], t[AUTHOR].s, t[AUTHOR].n);
        slot[BODY] = e->nfields;
        field(e, names[BODY], t[BODY].s, t[BODY].n);
        field(e, ES_F_CREATED, e->created, strlen(e->created));
        slot[PERMALINK] = e->nfields;
        field(e, names[PERMALINK], t[PERMALINK].s, t[PERMALINK].n);
        slot[LINK_ID] = e->nfields;
        field(e, names[LINK_ID], t[LINK_ID].s, t[LINK_ID].n);
        slot[LINK_TITLE] = e->nfields;
        field(e, names[LINK_TITLE], t[LINK_TITLE].s, t[LINK_TITLE].n);
        field(e, ES_F_SCORE, e->score, strlen(e->score));
    } else if (c->created_utc > 0 && isfinite(c->created_utc)) {
        /* the creation time stays with a deletion: enrich keeps records
           by the hour they were created in, and needs it to find the one
           to tombstone; a source without it (0) leaves the field out */
        put_created(e->created, sizeof(e->created), c->created_utc);
        field(e, ES_F_CREATED, e->created, strlen(e->created));
    }
    slot[SOURCE] = e->nfields;
    field(e, names[SOURCE], t[SOURCE].s, t[SOURCE].n);

    /* the rare repairs: room for all of them first, then rewrite */
    for (int i = 0; i < NTEXT; i++) {
        if (slot[i] >= 0 && !t[i].valid) {
            repair += 3 * t[i].n + 1; /* each bad byte may become U+FFFD */
        }
    }
    if (repair == 0) {
        return NULL;
    }
    if (repair > e->scratch_cap) {
        char *ns = realloc(e->scratch, repair);
        if (ns == NULL) {
            return "out of memory";
        }
        e->scratch = ns;
        e->scratch_cap = repair;
    }
    repair = 0;
    for (int i = 0; i < NTEXT; i++) {
        size_t len;
        if (slot[i] < 0 || t[i].valid) {
            continue;
        }
        len =
            es_utf8_repair(t[i].s, t[i].n, e->scratch + repair, 3 * t[i].n + 1);
        if (len == (size_t)-1) {
            return "out of memory"; /* cannot happen: 3n + 1 always fits */
        }
        e->f[slot[i]].value = e->scratch + repair;
        e->f[slot[i]].len = len;
        repair += len + 1;
    }
    return NULL;
}

void es_entry_cleanup(es_entry *e)
{
    free(e->scratch);
    e->scratch = NULL;
    e->scratch_cap = 0;
}
