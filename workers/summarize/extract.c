/*
 * extract.c - the local summariser (extract.h).
 *
 * Thresholds are stated once here and in docs/summaries.md: a share moved
 * when it changed by at least 5 points, volume moved when it changed by
 * at least 20 % (and by 10 comments), a theme is new when its term was
 * absent from the period before.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "es_utf8.h"
#include "extract.h"
#include "textbuf.h"

#define SHARE_MOVED  5.0  /* points */
#define VOLUME_MOVED 20.0 /* percent */
#define QUOTES_MAX   5

static double change_pct(long long now, long long before)
{
    return before > 0 ? 100.0 * (double)(now - before) / (double)before : 0;
}

/* "mostly positive", "mixed, leaning negative", … */
static const char *mood(const es_sum_counts *c)
{
    double pos = es_sum_share(c->pos, c->n), neg = es_sum_share(c->neg, c->n),
           neu = es_sum_share(c->neu, c->n);

    if (pos >= 50) {
        return "Mostly positive";
    }
    if (neg >= 50) {
        return "Mostly negative";
    }
    if (neu >= 50) {
        return "Mostly neutral";
    }
    return pos > neg   ? "Mixed, leaning positive"
           : neg > pos ? "Mixed, leaning negative"
                       : "Mixed";
}

static void volume_sentence(es_tb *b, const es_sum_counts *now,
                            const es_sum_counts *before, const char *bname)
{
    es_tb_printf(b, "%lld comment%s", now->n, now->n == 1 ? "" : "s");
    if (before->n == 0) {
        es_tb_printf(b, ", none %s.", bname);
    } else if (now->n == before->n) {
        es_tb_printf(b, ", as many as %s.", bname);
    } else {
        double pct = change_pct(now->n, before->n);
        es_tb_printf(b, ", %s %.0f%% on %s (%lld).", pct > 0 ? "up" : "down",
                     fabs(pct), bname, before->n);
    }
}

static void sentiment_sentence(es_tb *b, const es_sum_counts *now,
                               const es_sum_counts *before)
{
    if (now->n == 0) {
        return;
    }
    es_tb_printf(b,
                 " %s: %.0f%% positive, %.0f%% neutral, %.0f%% negative, "
                 "%.0f%% mixed. Mean sentiment %+.2f",
                 mood(now), es_sum_share(now->pos, now->n),
                 es_sum_share(now->neu, now->n), es_sum_share(now->neg, now->n),
                 es_sum_share(now->mix, now->n), es_sum_mean(now));
    if (before->n > 0) {
        es_tb_printf(b, " (was %+.2f)", es_sum_mean(before));
    }
    es_tb_put(b, ".", 1);
}

/* "What moved" from the changes that pass the thresholds. */
static void moved(es_tb *b, const es_sum_counts *now,
                  const es_sum_counts *before, const char *bname)
{
    struct {
        const char *name;
        long long a, c;
    } shares[] = {{"negative", now->neg, before->neg},
                  {"positive", now->pos, before->pos}};
    int said = 0;
    double vol = change_pct(now->n, before->n);

    es_tb_printf(b, "\n\nWhat moved: ");
    if (before->n == 0 && now->n == 0) {
        es_tb_printf(b, "nothing; there were no matching comments.");
        return;
    }
    if (before->n == 0) {
        es_tb_printf(b, "this is the first activity since %s.", bname);
        return;
    }
    for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
        double s1 = es_sum_share(shares[i].a, now->n),
               s0 = es_sum_share(shares[i].c, before->n);
        if (fabs(s1 - s0) >= SHARE_MOVED) {
            es_tb_printf(
                b, "%sthe %s share %s from %.0f%% to %.0f%% (%+.0f points)",
                said ? "; " : "", shares[i].name, s1 > s0 ? "rose" : "fell", s0,
                s1, s1 - s0);
            said = 1;
        }
    }
    if (fabs(vol) >= VOLUME_MOVED && llabs(now->n - before->n) >= 10) {
        es_tb_printf(b, "%svolume %s %.0f%%", said ? "; " : "",
                     vol > 0 ? "grew" : "dropped", fabs(vol));
        said = 1;
    }
    es_tb_printf(b,
                 said ? " against %s."
                      : "little; volume and sentiment "
                        "stayed close to %s.",
                 bname);
}

/* The first chosen comment carrying term, or NULL. */
static const es_sum_comment *carrier(const es_sum_figures *f, const char *term)
{
    for (size_t i = 0; i < f->ncomments; i++) {
        for (size_t t = 0; t < f->comments[i].nterms; t++) {
            if (strcmp(f->comments[i].terms[t], term) == 0) {
                return &f->comments[i];
            }
        }
    }
    return NULL;
}

/* A comment's words on one line, quoted, as it was written. */
static void quote(es_tb *b, const es_sum_comment *c, size_t max_bytes)
{
    size_t n = 0, lim = es_utf8_cut(c->body, strlen(c->body), max_bytes);

    es_tb_put(b, "\"", 1);
    for (const char *p = c->body; n < lim; p++, n++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            if (n > 0 && p[-1] != '\n' && p[-1] != '\r') {
                es_tb_put(b, " ", 1);
            }
            continue;
        }
        es_tb_put(b, p, 1);
    }
    es_tb_printf(b, "%s\"", c->cut || c->body[n] ? "…" : "");
}

static void themes(es_tb *b, const es_sum_figures *f)
{
    size_t shown = 0;

    if (f->nterms == 0) {
        return;
    }
    es_tb_printf(b, "\n\nTop themes:");
    for (size_t i = 0; i < f->nterms && shown < 5; i++, shown++) {
        const es_sum_term *t = &f->terms[i];
        const es_sum_comment *c = carrier(f, t->term);
        es_tb_printf(b, "\n- \"%s\": %lld comment%s", t->term, t->count,
                     t->count == 1 ? "" : "s");
        if (t->before == 0) {
            es_tb_printf(b, ", new");
        } else if (t->before > 0 && t->count != t->before) {
            es_tb_printf(b, ", %s from %lld",
                         t->count > t->before ? "up" : "down", t->before);
        }
        if (c) {
            es_tb_printf(b, ". For example u/%s in r/%s: ", c->author,
                         c->subreddit);
            quote(b, c, 160);
        }
        es_tb_put(b, ".", 1);
    }
}

static void voices(es_tb *b, const es_sum_figures *f)
{
    static const char *const role_name[] = {"Most negative", "Most positive",
                                            "Highest score", "Also said"};
    size_t n = 0;

    if (f->ncomments == 0) {
        return;
    }
    es_tb_printf(b, "\n\nRepresentative comments:");
    for (size_t i = 0; i < f->ncomments && n < QUOTES_MAX; i++, n++) {
        const es_sum_comment *c = &f->comments[i];
        es_tb_printf(b, "\n- %s (", role_name[c->role]);
        if (c->role == ES_SUM_TOP_SCORE) {
            es_tb_printf(b, "%lld point%s, ", c->score,
                         c->score == 1 || c->score == -1 ? "" : "s");
        } else {
            es_tb_printf(b, "%+.2f, ", c->compound);
        }
        es_tb_printf(b, "u/%s in r/%s): ", c->author, c->subreddit);
        quote(b, c, 400);
        if (c->link[0]) {
            es_tb_printf(b, " %s", c->link);
        }
    }
}

const char *es_sum_recommendation(const es_sum_figures *f, char *buf,
                                  size_t size)
{
    const es_sum_counts *now = &f->now, *before = &f->before;
    double neg1 = es_sum_share(now->neg, now->n),
           neg0 = es_sum_share(before->neg, before->n),
           pos1 = es_sum_share(now->pos, now->n),
           pos0 = es_sum_share(before->pos, before->n);
    const char *term = f->nterms ? f->terms[0].term : NULL;

    if (now->n == 0) {
        snprintf(buf, size,
                 "No matching comments: check the topics' subreddits and "
                 "queries if you expected activity.");
    } else if (before->n > 0 && neg1 - neg0 >= SHARE_MOVED && now->neg >= 3) {
        snprintf(buf, size,
                 "Negative sentiment is up: read the most negative "
                 "comments%s%s%s first and decide whether a public reply or "
                 "an FAQ entry is needed.",
                 term ? " about \"" : "", term ? term : "", term ? "\"" : "");
    } else if (before->n > 0 &&
               change_pct(now->n, before->n) >= 2 * VOLUME_MOVED &&
               now->n - before->n >= 10) {
        snprintf(buf, size,
                 "Attention is rising%s%s%s: make sure someone on the team "
                 "follows the conversation today.",
                 term ? " around \"" : "", term ? term : "", term ? "\"" : "");
    } else if (before->n > 0 && pos1 - pos0 >= SHARE_MOVED) {
        snprintf(buf, size,
                 "Positive momentum: share the most positive comment with "
                 "the team or thank its author.");
    } else if (neg1 >= 40) {
        snprintf(buf, size,
                 "Negative sentiment is high but steady: review the "
                 "recurring complaints and plan an answer to the most "
                 "common one.");
    } else {
        snprintf(buf, size,
                 "A steady day: no action needed beyond the usual "
                 "monitoring.");
    }
    return buf;
}

char *es_sum_local_text(const es_sum_figures *f, const char *title,
                        const char *period, const char *before)
{
    es_tb b = {0};
    char rec[256];

    es_tb_printf(&b, "%s, %s.\n\n", title, period);
    volume_sentence(&b, &f->now, &f->before, before);
    sentiment_sentence(&b, &f->now, &f->before);
    if (f->whole && f->ntopics > 1) {
        es_tb_printf(&b, "\n\nBy topic:");
        for (size_t i = 0; i < f->ntopics; i++) {
            const es_sum_topic *t = &f->topics[i];
            es_tb_printf(&b, "\n- %s: %lld comment%s", t->name, t->now.n,
                         t->now.n == 1 ? "" : "s");
            if (t->before.n > 0) {
                es_tb_printf(&b, " (%+.0f%%)",
                             change_pct(t->now.n, t->before.n));
            }
            if (t->now.n > 0) {
                es_tb_printf(&b, ", %.0f%% negative, mean %+.2f",
                             es_sum_share(t->now.neg, t->now.n),
                             es_sum_mean(&t->now));
            }
            es_tb_put(&b, ".", 1);
        }
    }
    moved(&b, &f->now, &f->before, before);
    themes(&b, f);
    voices(&b, f);
    es_tb_printf(&b, "\n\nRecommended action: %s",
                 es_sum_recommendation(f, rec, sizeof(rec)));
    return es_tb_take(&b);
}
