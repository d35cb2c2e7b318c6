/*
 * watchlist.c - the watched subreddits, reloaded on version change (see
 * watchlist.h).
 *
 * Names are stored in one array of fixed 22-byte slots (a subreddit name is
 * at most 21 characters) and indexed by a power-of-two table of slot numbers
 * with linear probing, kept at most half full. A reload builds the new set
 * aside and swaps it in, so a failed reload never leaves a half set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "watchlist.h"

#define NAME_SIZE 22

typedef struct {
    char (*names)[NAME_SIZE];
    size_t count;
    uint32_t *table; /* slot + 1, 0 = empty */
    size_t mask;     /* table size - 1 */
} name_set;

struct es_watchlist {
    name_set set;
    int loaded;
    char version[32];
};

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void set_free(name_set *s)
{
    free(s->names);
    free(s->table);
    memset(s, 0, sizeof(*s));
}

/* Room for up to max names; 0 or -1 (out of memory). */
static int set_init(name_set *s, size_t max)
{
    size_t size = 8;

    memset(s, 0, sizeof(*s));
    while (size < max * 2) {
        size *= 2;
    }
    s->names = calloc(max ? max : 1, NAME_SIZE);
    s->table = calloc(size, sizeof(*s->table));
    if (s->names == NULL || s->table == NULL) {
        set_free(s);
        return -1;
    }
    s->mask = size - 1;
    return 0;
}

static int set_find(const name_set *s, const char *name, size_t n)
{
    size_t i;

    if (s->table == NULL || n >= NAME_SIZE) {
        return 0;
    }
    i = (size_t)hash_name(name, n) & s->mask;
    while (s->table[i] != 0) {
        const char *slot = s->names[s->table[i] - 1];
        if (memcmp(slot, name, n) == 0 && slot[n] == '\0') {
            return 1;
        }
        i = (i + 1) & s->mask;
    }
    return 0;
}

/* Adds a normalized name (capacity reserved by set_init). */
static void set_add(name_set *s, const char *name, size_t n)
{
    size_t i;

    if (set_find(s, name, n)) {
        return;
    }
    i = (size_t)hash_name(name, n) & s->mask;
    while (s->table[i] != 0) {
        i = (i + 1) & s->mask;
    }
    memcpy(s->names[s->count], name, n);
    s->names[s->count][n] = '\0';
    s->count++;
    s->table[i] = (uint32_t)s->count;
}

es_watchlist *es_watchlist_new(void)
{
    return calloc(1, sizeof(es_watchlist));
}

void es_watchlist_free(es_watchlist *wl)
{
    if (wl == NULL) {
        return;
    }
    set_free(&wl->set);
    free(wl);
}

static int watched_value(const redisReply *v)
{
    if (v->type == REDIS_REPLY_INTEGER) {
        return v->integer > 0;
    }
    if (v->type == REDIS_REPLY_STRING) {
        return atoll(v->str) > 0;
    }
    return 0;
}

/* Builds the set from an HGETALL reply; 0 or -1 (out of memory). */
static int load_subs(es_watchlist *wl, const redisReply *rep)
{
    name_set fresh;
    size_t bad = 0;
    char norm[NAME_SIZE];

    if (set_init(&fresh, rep->elements / 2) != 0) {
        return -1;
    }
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const redisReply *f = rep->element[i], *v = rep->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || !watched_value(v)) {
            continue;
        }
        if (es_subreddit_normalize(f->str, f->len, norm) != 0) {
            if (bad++ < 5) {
                es_log(ES_WARN, "watchlist entry skipped",
                       ES_STR("reason", "not a subreddit name"),
                       ES_INT("bytes", f->len), ES_END);
            }
            continue;
        }
        set_add(&fresh, norm, f->len);
    }
    if (bad > 5) {
        es_log(ES_WARN, "watchlist entries skipped", ES_INT("count", bad),
               ES_END);
    }
    set_free(&wl->set);
    wl->set = fresh;
    return 0;
}

int es_watchlist_set_names(es_watchlist *wl, const char *const *names, size_t n)
{
    name_set fresh;
    char norm[NAME_SIZE];

    if (set_init(&fresh, n) != 0) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (es_subreddit_normalize(names[i], len, norm) == 0) {
            set_add(&fresh, norm, len);
        }
    }
    set_free(&wl->set);
    wl->set = fresh;
    return 0;
}

int es_watchlist_refresh(es_watchlist *wl, es_redis *r)
{
    redisReply *ver, *subs = NULL;
    char version[sizeof(wl->version)] = "";
    int rc = 0;

    ver = es_redis_cmd(r, "GET %s", ES_KEY_WATCH_VERSION);
    if (ver == NULL) {
        return -1;
    }
    if (ver->type == REDIS_REPLY_STRING) {
        snprintf(version, sizeof(version), "%s", ver->str);
    } else if (ver->type == REDIS_REPLY_ERROR) {
        es_log(ES_WARN, "watchlist version read failed",
               ES_STR("error", ver->str), ES_END);
        goto cleanup;
    }
    if (wl->loaded && strcmp(version, wl->version) == 0) {
        goto cleanup;
    }
    subs = es_redis_cmd(r, "HGETALL %s", ES_KEY_WATCH_SUBS);
    if (subs == NULL) {
        rc = -1;
        goto cleanup;
    }
    if (subs->type != REDIS_REPLY_ARRAY) {
        es_log(ES_WARN, "watchlist read failed",
               ES_STR("error", subs->type == REDIS_REPLY_ERROR
                                   ? subs->str
                                   : "unexpected reply"),
               ES_END);
        goto cleanup;
    }
    if (load_subs(wl, subs) != 0) {
        es_log(ES_ERROR, "watchlist reload failed",
               ES_STR("error", "out of memory"), ES_END);
        goto cleanup;
    }
    memcpy(wl->version, version, sizeof(version));
    wl->loaded = 1;
    rc = 1;
    es_log(ES_INFO, "watchlist loaded", ES_INT("subreddits", wl->set.count),
           ES_STR("version", version[0] ? version : "none"), ES_END);

cleanup:
    freeReplyObject(ver);
    if (subs) {
        freeReplyObject(subs);
    }
    return rc;
}

int es_watchlist_contains(const es_watchlist *wl, const char *sub_lower,
                          size_t n)
{
    return set_find(&wl->set, sub_lower, n);
}

size_t es_watchlist_count(const es_watchlist *wl)
{
    return wl->set.count;
}

const char *es_watchlist_name(const es_watchlist *wl, size_t i)
{
    return i < wl->set.count ? wl->set.names[i] : NULL;
}

int es_watchlist_all(const es_watchlist *wl)
{
    return set_find(&wl->set, "all", 3);
}
