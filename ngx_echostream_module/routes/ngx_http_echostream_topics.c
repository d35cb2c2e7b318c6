/*
 * ngx_http_echostream_topics.c - /topics: the topic item kind (list,
 * create, read, replace, change and delete run by the item layer,
 * api/ngx_http_echostream_items.c).
 *
 * A topic is stored as its canonical JSON {"id","name","subreddits",
 * "query"} in es:{t:<tenant>}:topics, the hash the enrich worker loads.
 * Its validator is lib/es_req_topic.c (the code the fuzz targets run):
 * subreddit names are normalized (lower case, duplicates dropped) and the
 * query goes through the same parser enrich compiles it with, so a topic
 * that was accepted always loads, and a query error comes back with its
 * byte position and column.
 *
 * What a topic has beyond other kinds is the "topic" hook of its writes
 * (lib/redis/tenant.lua): the same atomic call moves the watch union
 * es:{watch}:subs that ingest polls and bumps the version counters the
 * workers reload on and the tenant's data version (a cached series
 * answer is stale once its topic changed). A deleted topic's series, terms and
 * comment keys are not deleted: they expire with their bucket or the tenant's
 * retention, so a DELETE costs one call however much data the topic gathered.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_keys.h"
#include "es_req_topic.h"
#include "routes/ngx_http_echostream_routes.h"

static ngx_int_t
ngx_http_echostream_topic_hook(ngx_http_echostream_api_ctx_t *ctx,
                               json_t *topic, const char **keys, int *nkeys,
                               const char **args, int *nargs);

const ngx_http_echostream_item_kind_t ngx_http_echostream_item_topics = {
    .what = "topic",
    .list = "topics",
    .key = ES_TK_TOPICS,
    .limit = "100",
    .members = es_req_topic_members,
    .check = es_req_topic_item,
    .hook = "topic",
    .hook_args = ngx_http_echostream_topic_hook,
};

/*
 * The topic hook's KEYS (the tenant's data version, the watch union, its
 * version, the topics version, and for a write the tenant set) and, for a
 * write, its ARGV:
 * the tenant and the topic's subreddit names, normalized by the
 * validator. A delete sends none: the function reads the stored topic's.
 */
static ngx_int_t
ngx_http_echostream_topic_hook(ngx_http_echostream_api_ctx_t *ctx,
                               json_t *topic, const char **keys, int *nkeys,
                               const char **args, int *nargs)
{
    ngx_str_t dv;
    const char *s;
    json_t *subs;
    size_t i;

    if (ngx_http_echostream_api_key(ctx, &dv, ES_TK_DV) != NGX_OK) {
        return NGX_ERROR;
    }

    keys[(*nkeys)++] = (const char *)dv.data;
    keys[(*nkeys)++] = ES_KEY_WATCH_SUBS;
    keys[(*nkeys)++] = ES_KEY_WATCH_VERSION;
    keys[(*nkeys)++] = ES_KEY_TOPICS_VERSION;

    if (topic == NULL) {
        return NGX_OK;
    }

    keys[(*nkeys)++] = ES_KEY_TENANTS;
    args[(*nargs)++] = (const char *)ctx->tenant;

    subs = json_object_get(topic, "subreddits");
    /* the validator made every one a name; anything else is left out */
    for (i = 0; i < json_array_size(subs) && i < ES_REQ_TOPIC_SUBS_MAX; i++) {
        s = json_string_value(json_array_get(subs, i));
        if (s != NULL) {
            args[(*nargs)++] = s;
        }
    }

    return NGX_OK;
}
