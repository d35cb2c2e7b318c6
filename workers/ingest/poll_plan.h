/*
 * poll_plan.h - which subreddits the poller reads together.
 *
 * Reddit's budget is per request (reddit.qpm, 100 a minute), not per
 * subreddit, and /r/a+b+c/comments answers one listing of the newest
 * comments of all of them. A quiet subreddit alone in a request wastes
 * nearly all of a 100-comment page; 25 quiet ones share one. So the poller
 * reads quiet subreddits in groups, busy ones alone (with their own
 * ?before= cursor and paging), and every unit, group or subreddit, comes
 * round once per cycle (reddit_pacing.h: es_cycle_s): with 60 subreddits of
 * which a few are busy, a handful of units instead of 60, so each is read
 * every few seconds instead of every 36.
 *
 * A pure function of the rates, so the packing rules are unit-tested
 * without a clock or a network. Sharing a listing never costs requests,
 * so groups are as large as the rules allow: at most ES_GROUP_MAX
 * subreddits and three pages of comments per cycle (a third of the
 * listing cap: room for bursts); a subreddit filling a page per cycle on
 * its own stays alone. Only subreddits the poller vouches for are packed
 * (known rate, readable, complete up to a known comment: see poller.c); a
 * group of one is no group.
 */
#ifndef ES_INGEST_POLL_PLAN_H
#define ES_INGEST_POLL_PLAN_H

#include <stddef.h>

/* Most subreddits in one group: keeps the path short (21-character names:
   about 550 bytes) and the harm of one refused member small. */
#define ES_GROUP_MAX 25

/*
 * Packs the n subreddits (rate: comments/s; pending: comments each has
 * gathered since its last poll, NULL for none; groupable: may share a
 * listing) into groups. A subreddit brings to a poll a cycle's comments or
 * its backlog, whichever is more: one that fell behind (a long start-up, a
 * restart after downtime) is read alone until it caught up, so a shared
 * listing never has to hold several backlogs. group_of[i] gets the group of
 * subreddit i (0 .. *ngroups - 1) or -1 when it is polled alone. Returns the
 * cycle the plan gives (es_cycle_s of its units, at least min_s; HUGE_VAL when
 * the budget cannot keep up).
 */
double es_poll_plan(const double *rate, const double *pending,
                    const int *groupable, size_t n, double budget_qpm,
                    double min_s, int *group_of, size_t *ngroups);

#endif
