/*
 * reply_testkit.h - hiredis replies built on the stack, for the unit tests
 * of code that reads a redisReply (the role and sentinel answers, the
 * enrich worker's reverse calls) without a Redis: a string and an array of
 * given elements. Nothing is allocated; the strings and the element array
 * belong to the caller.
 *
 * Functions are static inline, so a test binary that includes this file
 * uses what it needs.
 */
#ifndef REPLY_TESTKIT_H
#define REPLY_TESTKIT_H

#include <stddef.h>
#include <string.h>

#include <hiredis/hiredis.h>

static inline redisReply reply_str(const char *s)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_STRING;
    r.str = (char *)s;
    r.len = strlen(s);
    return r;
}

static inline redisReply reply_arr(redisReply **el, size_t n)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_ARRAY;
    r.element = el;
    r.elements = n;
    return r;
}

#endif
