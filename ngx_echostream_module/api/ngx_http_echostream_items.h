/*
 * ngx_http_echostream_items.h - a tenant's items of any kind (topics,
 * alert rules, …): the six routes every kind has, run from a descriptor.
 *
 * A kind is a hash of canonical JSON values es:{t:<tenant>}:<kind> (id →
 * item) that the workers read. Its routes are always the same: list, get,
 * create (POST, 201), replace (PUT), change (PATCH: the body's members
 * merged over the stored item, then a compare-and-set on the value it
 * merged into, re-read a few times when another write came between) and
 * delete. Every write is one call of es_item_put / es_item_delete
 * (lib/redis/tenant.lua), which decides the races (id taken, item gone,
 * the limit, a referenced item missing) atomically. So a kind is only what
 * differs: its key, the members a body may have, its validator (lib/es_req_*.c,
 * the code the fuzz targets run: one check for bodies, merged PATCHes and
 * values read back, so a damaged stored item is skipped with a log line, never
 * served), its limit, what it may refer to, and for topics the Redis-side hook
 * that keeps the watch union and the version counters in step.
 * ITEM_ROUTES in the route table gives a kind its six
 * routes.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_ITEMS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_ITEMS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "es_keys.h"
#include "es_req.h"
#include "api/ngx_http_echostream_api.h"

/* the most KEYS and ARGV a kind's hook adds to a write */
#define NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX 32

typedef struct ngx_http_echostream_item_kind_s ngx_http_echostream_item_kind_t;

/*
 * The validator of a kind: each member from src (borrowed), or when src
 * lacks it from base (borrowed, may be NULL: PATCH merges over the stored
 * item), checked as a whole for the item id (valid, NUL-terminated).
 * Returns 0 with a new canonical item in *out (the caller owns it), or -1
 * with *err (422 naming the member at fault; 500 when memory ran out).
 */
typedef int (*ngx_http_echostream_item_check_pt)(json_t *src, json_t *base,
                                                 const char *id, json_t **out,
                                                 es_req_err *err);

/*
 * Adds the kind's hook's KEYS and ARGV for a write of item (canonical; NULL
 * for a delete) at keys[*nkeys…] and args[*nargs…], at most
 * NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX each. NGX_OK, or NGX_ERROR (no memory).
 */
typedef ngx_int_t (*ngx_http_echostream_item_hook_pt)(
    ngx_http_echostream_api_ctx_t *ctx, json_t *item, const char **keys,
    int *nkeys, const char **args, int *nargs);

struct ngx_http_echostream_item_kind_s {
    const char *what;  /* "topic": "no such topic", log lines, path id */
    const char *list;  /* "topics": the member of the list answer */
    es_tkey key;       /* the tenant's hash of them (lib/es_keys.h) */
    const char *limit; /* the most a tenant may have, as decimal text */
    const char *const *members; /* what a body may hold (es_req_members) */
    ngx_http_echostream_item_check_pt check;
    /* a member whose value must be the id of an item of ref, or NULL; a
     * write naming a missing one gets 422 ref_code, field ref_member,
     * "no such <ref what>: <id>" */
    const char *ref_member;
    const ngx_http_echostream_item_kind_t *ref;
    const char *ref_code;
    /* the Redis-side hook (lib/redis/tenant.lua HOOKS), or NULL */
    const char *hook;
    ngx_http_echostream_item_hook_pt hook_args;
};

/* The six routes of a kind, dispatched on ctx->route->data (the kind). */
void ngx_http_echostream_item_list(ngx_http_echostream_api_ctx_t *ctx);
void ngx_http_echostream_item_get(ngx_http_echostream_api_ctx_t *ctx);
void ngx_http_echostream_item_create(ngx_http_echostream_api_ctx_t *ctx);
void ngx_http_echostream_item_put(ngx_http_echostream_api_ctx_t *ctx);
void ngx_http_echostream_item_patch(ngx_http_echostream_api_ctx_t *ctx);
void ngx_http_echostream_item_delete(ngx_http_echostream_api_ctx_t *ctx);

/*
 * An HGETALL reply of kind's hash as a new array of its items, each
 * re-checked by the validator (damaged ones skipped, logged), sorted by
 * id; NULL when memory ran out. GET /alerts answers rules with it.
 */
json_t *ngx_http_echostream_items_json(ngx_http_echostream_api_ctx_t *ctx,
                                       const ngx_http_echostream_item_kind_t *k,
                                       redisReply *all);

#endif /* _NGX_HTTP_ECHOSTREAM_ITEMS_H_INCLUDED_ */
