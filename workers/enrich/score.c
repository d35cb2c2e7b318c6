/*
 * score.c - per-batch sentiment with shared Comprehend answers (see
 * score.h).
 */
#include <stdlib.h>
#include <string.h>

#include "es_log.h"
#include "es_metrics.h"
#include "es_vader.h"
#include "score.h"

void es_split_cost(long long total, size_t k, size_t i_th, long long *share)
{
    long long q = total / (long long)k, r = total % (long long)k;

    *share = q + ((long long)i_th < r ? 1 : 0);
}

/* [start, end) of the pairs of the entry at pairs[start]. */
static size_t group_end(const es_enrich_pair *pairs, size_t npairs,
                        size_t start)
{
    size_t end = start;

    while (end < npairs && pairs[end].entry == pairs[start].entry) {
        end++;
    }
    return end;
}

/*
 * Marks, in one entry's pairs, each distinct tenant that may use Comprehend
 * (the first pair of a tenant carries the mark); returns how many.
 */
static size_t eligible(const es_topic_set *ts, es_enrich_pair *p, size_t n,
                       const long long *remaining)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const es_enrich_tenant *t = &ts->tenants[p[i].tenant];
        int first = i == 0 || p[i - 1].tenant != p[i].tenant;

        p[i].comprehend = 0;
        if (p[i].topic == ES_PAIR_DELETE) {
            continue;
        }
        if (first && t->engine == ES_ENGINE_COMPREHEND &&
            remaining[p[i].tenant] > 0) {
            p[i].comprehend = 1;
            k++;
        }
    }
    return k;
}

/* Spreads a tenant's mark from its first pair to all its pairs. */
static void spread(es_enrich_pair *p, size_t n, int keep)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && p[i - 1].tenant == p[i].tenant) {
            p[i].comprehend = p[i - 1].comprehend;
        } else if (!keep) {
            p[i].comprehend = 0;
        }
    }
}

void es_enrich_score(es_scorer *sc, const es_vader *v, const es_topic_set *ts,
                     const es_enrich_entry *entries, es_enrich_pair *pairs,
                     size_t npairs, long long price_micros,
                     long long *remaining_micros, long long *charge_units,
                     long long *charge_micros, es_entry_score *scores)
{
    size_t ngroups = 0, nwant = 0;
    size_t *gstart = calloc(npairs + 1, sizeof(*gstart));
    size_t *want = calloc(npairs + 1, sizeof(*want)); /* group indexes */
    const char **texts = calloc(npairs + 1, sizeof(*texts));
    size_t *lens = calloc(npairs + 1, sizeof(*lens));
    es_score *out = calloc(npairs + 1, sizeof(*out));
    int oom = gstart == NULL || want == NULL || texts == NULL || lens == NULL ||
              out == NULL;

    for (size_t s = 0; s < npairs; s = group_end(pairs, npairs, s)) {
        size_t e = group_end(pairs, npairs, s), k;
        const es_enrich_entry *en = &entries[pairs[s].entry];
        es_entry_score *sco = &scores[pairs[s].entry];

        if (en->is_delete) {
            continue;
        }
        sco->vader = es_vader_score(v, en->body.s, en->body.n);
        sco->has_vader = 1;
        if (oom || sc == NULL) {
            continue;
        }
        gstart[ngroups] = s;
        k = eligible(ts, pairs + s, e - s, remaining_micros);
        if (k > 0) {
            long long cost =
                (long long)es_comprehend_units(en->body.s, en->body.n) *
                price_micros;
            size_t i_th = 0;
            for (size_t i = s; i < e; i++) {
                long long share;
                if (!pairs[i].comprehend) {
                    continue;
                }
                es_split_cost(cost, k, i_th++, &share);
                remaining_micros[pairs[i].tenant] -= share;
            }
            want[nwant] = ngroups;
            texts[nwant] = en->body.s;
            lens[nwant++] = en->body.n;
        }
        ngroups++;
    }
    if (oom) {
        es_log(ES_ERROR, "out of memory scoring a batch; VADER for all",
               ES_END);
        for (size_t i = 0; i < npairs; i++) {
            pairs[i].comprehend = 0;
        }
        goto cleanup;
    }
    if (nwant > 0) {
        es_scorer_score(sc, ES_ENGINE_COMPREHEND, texts, lens, nwant, out);
    }
    for (size_t w = 0, g = 0; g < ngroups; g++) {
        size_t s = gstart[g], e = group_end(pairs, npairs, s), k = 0;
        es_entry_score *sco = &scores[pairs[s].entry];
        int used = w < nwant && want[w] == g;

        if (!used || out[w].engine != ES_ENGINE_COMPREHEND) {
            /* not asked, or answered by the VADER fallback: no charge */
            spread(pairs + s, e - s, 0);
            w += used;
            continue;
        }
        sco->comprehend = out[w].s;
        sco->has_comprehend = 1;
        sco->units = out[w].units;
        es_metrics_add("echostream_comprehend_spend_usd_total",
                       (double)out[w].units * (double)price_micros / 1e6);
        for (size_t i = s; i < e; i++) {
            k += pairs[i].comprehend;
        }
        for (size_t i = s, i_th = 0; i < e; i++) {
            long long u, m;
            if (!pairs[i].comprehend) {
                continue;
            }
            es_split_cost(out[w].units, k, i_th, &u);
            es_split_cost((long long)out[w].units * price_micros, k, i_th, &m);
            i_th++;
            charge_units[pairs[i].tenant] += u;
            charge_micros[pairs[i].tenant] += m;
        }
        spread(pairs + s, e - s, 1);
        w++;
    }

cleanup:
    free(gstart);
    free(want);
    free(texts);
    free(lens);
    free(out);
}
