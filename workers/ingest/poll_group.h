/*
 * poll_group.h - one poll of a group of quiet subreddits through one
 * listing, /r/a+b+c/comments (poll_plan.h says why and which).
 *
 * A group has no ?before= cursor of its own: its members change as their
 * rates do, and a cursor comment of one member means nothing to the
 * others. Instead the poll reads the newest page and pages back with
 * ?after= until it reaches the smallest "seen" id of its members (each
 * member is complete up to its own, sub_cursor.h), so a subreddit joins or
 * leaves a group without a gap, and a vanished comment cannot stall it.
 * What is new for a member is what lies above its own cursor; comments
 * whose body marks a deletion go to the sink too, as a probe's do, so
 * deletions of recent comments are noticed. Nothing is streamed until the
 * whole range was read, everything is flushed before any cursor moves, and
 * a complete poll moves every member's seen up to the newest id it knew.
 */
#ifndef ES_INGEST_POLL_GROUP_H
#define ES_INGEST_POLL_GROUP_H

#include <stddef.h>

#include "poll_sub.h"

/*
 * Polls the n members (n <= ES_GROUP_MAX) together and schedules their
 * next poll. A 403/404 (Reddit refusing the combined listing, e.g. for a
 * member gone private) marks every member need_solo: each is polled alone
 * next, which finds the culprit. A failure backs all members off.
 */
es_poll_result es_poll_group(es_poll_ctx *ctx, es_sub *const *m, size_t n);

#endif
