/*
 * reddit_listing.c - Listing parser (see reddit_listing.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_utf8.h"
#include "reddit_listing.h"

/* Borrowed string field, or "" when absent or not a string. */
static es_strv str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    es_strv s = {"", 0};

    if (json_is_string(v)) {
        s.s = json_string_value(v);
        s.n = json_string_length(v);
    }
    return s;
}

static void copy_name(char *dst, size_t size, json_t *v)
{
    dst[0] = '\0';
    if (json_is_string(v) && json_string_length(v) < size) {
        memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    }
}

/* Fills c from one child's data; -1 when it is not a usable comment. */
static int read_comment(json_t *child, es_comment *c, uint64_t *num)
{
    json_t *data, *v;

    if (!json_is_object(child)) {
        return -1;
    }
    v = json_object_get(child, "kind");
    if (!json_is_string(v) || strcmp(json_string_value(v), "t1") != 0) {
        return -1;
    }
    data = json_object_get(child, "data");
    if (!json_is_object(data)) {
        return -1;
    }
    memset(c, 0, sizeof(*c));
    c->id = str_field(data, "id");
    c->subreddit = str_field(data, "subreddit");
    if (c->id.n == 0 || c->subreddit.n == 0 ||
        es_comment_id_parse(c->id.s, c->id.n, num) != 0) {
        return -1;
    }
    c->author = str_field(data, "author");
    c->body = str_field(data, "body");
    c->permalink = str_field(data, "permalink");
    c->link_id = str_field(data, "link_id");
    c->link_title = str_field(data, "link_title");
    v = json_object_get(data, "created_utc");
    c->created_utc = json_is_number(v) ? json_number_value(v) : 0.0;
    v = json_object_get(data, "score");
    c->score = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
    c->source = "reddit";
    return 0;
}

int es_listing_parse(es_listing *l, const char *body, size_t len, char *err,
                     size_t errlen)
{
    char *fixed = NULL;
    json_error_t jerr;
    json_t *data, *children;
    size_t cap;

    memset(l, 0, sizeof(*l));
    if (body == NULL || len == 0) {
        snprintf(err, errlen, "empty body");
        return -1;
    }
    if (!es_utf8_valid(body, len)) {
        size_t n;
        fixed = malloc(3 * len + 1);
        if (fixed == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        n = es_utf8_repair(body, len, fixed, 3 * len + 1);
        body = fixed;
        len = n;
        l->repaired = 1;
    }
    l->root = json_loadb(body, len, 0, &jerr);
    free(fixed);
    if (l->root == NULL) {
        snprintf(err, errlen, "invalid JSON at byte %d: %s", jerr.position,
                 jerr.text);
        return -1;
    }
    if (!json_is_object(l->root) ||
        !json_is_string(json_object_get(l->root, "kind")) ||
        strcmp(json_string_value(json_object_get(l->root, "kind")),
               "Listing") != 0) {
        snprintf(err, errlen, "not a Listing");
        goto error;
    }
    data = json_object_get(l->root, "data");
    children = json_object_get(data, "children");
    if (!json_is_object(data) || !json_is_array(children)) {
        snprintf(err, errlen, "Listing without data.children");
        goto error;
    }
    copy_name(l->before, sizeof(l->before), json_object_get(data, "before"));
    copy_name(l->after, sizeof(l->after), json_object_get(data, "after"));
    cap = json_array_size(children);
    if (cap > 0) {
        l->items = calloc(cap, sizeof(*l->items));
        l->nums = calloc(cap, sizeof(*l->nums));
        if (l->items == NULL || l->nums == NULL) {
            snprintf(err, errlen, "out of memory");
            goto error;
        }
    }
    for (size_t i = 0; i < cap; i++) {
        json_t *child = json_array_get(children, i);
        if (read_comment(child, &l->items[l->n], &l->nums[l->n]) != 0) {
            l->skipped++;
            continue;
        }
        l->n++;
    }
    return 0;

error:
    es_listing_free(l);
    return -1;
}

void es_listing_free(es_listing *l)
{
    json_decref(l->root);
    free(l->items);
    free(l->nums);
    memset(l, 0, sizeof(*l));
}

void es_listing_name(const es_listing *l, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "t1_%.*s", (int)l->items[i].id.n, l->items[i].id.s);
}
