/*
 * poll_plan.c - packing quiet subreddits into shared listings (see
 * poll_plan.h).
 */
#include <math.h>
#include <stdlib.h>

#include "poll_plan.h"
#include "reddit_pacing.h"

/*
 * Comments a group may gather per cycle: three pages, a third of the
 * listing cap, so a burst of three times the usual still fits. Sharing
 * never costs requests (pages of one listing of a+b are never more than
 * those of a and b apart), so the only limit is the cap.
 */
#define ES_GROUP_FILL 300.0
/*
 * A subreddit gathering a page per cycle on its own gains nothing from
 * company: it stays alone, with its own ?before= cursor, whose pages are
 * streamed one by one.
 */
#define ES_SOLO_FILL ((double)ES_PAGE_SIZE)
/* Cycle the packing assumes when the budget cannot keep up at all. */
#define ES_PLAN_CYCLE_CAP 60.0
/* Rounds of packing and re-estimating the cycle. */
#define ES_PLAN_ROUNDS 16

typedef struct {
    double rate;
    double pending;
    size_t i;
} es_plan_item;

static int cmp_item(const void *a, const void *b)
{
    const es_plan_item *x = a, *y = b;

    if (x->rate != y->rate) {
        return x->rate < y->rate ? -1 : 1;
    }
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Ends the current group: a group of one is dissolved. The groups kept. */
static size_t close_group(int *group_of, size_t first, size_t members, size_t g)
{
    if (members == 1) {
        group_of[first] = -1;
        return g;
    }
    return members > 1 ? g + 1 : g;
}

/*
 * One packing for cycle t; returns the units (groups + lone subs). A
 * subreddit's load is what it brings to a poll: a cycle's comments, or more
 * when it has been waiting longer (its backlog must fit the listing it
 * shares).
 */
static size_t pack(const es_plan_item *items, size_t k, size_t n, double t,
                   int *group_of, size_t *ngroups)
{
    size_t g = 0, first = 0, members = 0;
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        group_of[i] = -1;
    }
    for (size_t j = 0; j < k; j++) {
        double load = items[j].rate * t;

        if (items[j].pending > load) {
            load = items[j].pending;
        }
        if (load > ES_SOLO_FILL) {
            continue; /* a page or more of its own: alone */
        }
        if (members == ES_GROUP_MAX || sum + load > ES_GROUP_FILL) {
            g = close_group(group_of, first, members, g);
            members = 0;
            sum = 0;
        }
        if (members == 0) {
            first = items[j].i;
        }
        group_of[items[j].i] = (int)g;
        sum += load;
        members++;
    }
    g = close_group(group_of, first, members, g);
    *ngroups = g;
    {
        size_t units = g;
        for (size_t i = 0; i < n; i++) {
            units += group_of[i] < 0;
        }
        return units;
    }
}

double es_poll_plan(const double *rate, const double *pending,
                    const int *groupable, size_t n, double budget_qpm,
                    double min_s, int *group_of, size_t *ngroups)
{
    es_plan_item *items = calloc(n ? n : 1, sizeof(*items));
    double total = 0, t;
    size_t k = 0, units = n;

    *ngroups = 0;
    for (size_t i = 0; i < n; i++) {
        group_of[i] = -1;
        total += rate[i] > 0 ? rate[i] : 0;
    }
    t = es_cycle_s(n, total, budget_qpm, min_s);
    if (items == NULL) {
        return t; /* out of memory: everything alone, as before */
    }
    for (size_t i = 0; i < n; i++) {
        if (groupable[i]) {
            items[k].rate = rate[i] > 0 ? rate[i] : 0;
            items[k].pending = pending && pending[i] > 0 ? pending[i] : 0;
            items[k].i = i;
            k++;
        }
    }
    qsort(items, k, sizeof(*items), cmp_item);
    /*
     * From the shortest cycle up: pack for cycle tp, see what cycle the
     * packing gives; when it is no longer than tp the groups were sized
     * for a cycle at least as long as the real one, and the plan holds.
     * Otherwise pack again for the longer cycle (smaller groups). The
     * first consistent packing is the one with the fewest units that the
     * rules allow.
     */
    if (k > 1) {
        double tp = min_s > 0 ? min_s : 0.01;

        for (int round = 0; round < ES_PLAN_ROUNDS; round++) {
            units = pack(items, k, n, tp, group_of, ngroups);
            t = es_cycle_s(units, total, budget_qpm, min_s);
            if (t <= tp * (1 + 1e-9)) {
                break;
            }
            if (!isfinite(t) || t >= ES_PLAN_CYCLE_CAP) {
                units = pack(items, k, n, ES_PLAN_CYCLE_CAP, group_of, ngroups);
                t = es_cycle_s(units, total, budget_qpm, min_s);
                break;
            }
            tp = t;
        }
    }
    free(items);
    return t;
}
