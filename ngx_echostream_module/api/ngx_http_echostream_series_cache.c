/*
 * ngx_http_echostream_series_cache.c - the per-worker series answer cache
 * (see ngx_http_echostream_series_cache.h for what an entry means and why
 * it is always fresh).
 *
 * A chained hash table (a power of two of buckets, at least the entry
 * limit) for lookups and one queue in use order for eviction. Each entry
 * is one heap block: the record, its key, its data version and its text,
 * so storing is one allocation and freeing one free. Everything is this
 * worker's: a single event loop uses it, so nothing is locked.
 *
 * An evicted or replaced entry leaves the table at once; its memory goes
 * when the last request sending it is done (the reference taken by
 * ngx_http_echostream_series_cache_get() is dropped by a pool cleanup).
 * The byte limit counts entries in the table only.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "api/ngx_http_echostream_series_cache.h"

typedef struct ngx_http_echostream_series_entry_s
    ngx_http_echostream_series_entry_t;

struct ngx_http_echostream_series_entry_s {
    ngx_queue_t lru; /* most recently used at the head */
    ngx_http_echostream_series_entry_t *next; /* the bucket's chain */
    uint32_t hash;
    ngx_uint_t refs;   /* requests sending the text */
    ngx_msec_t stored; /* when the data was read */
    size_t size;       /* the whole block, for the byte limit */
    size_t key_len;
    size_t dv_len;
    unsigned dv_nil : 1; /* stored while the counter did not exist */
    unsigned linked : 1; /* in the table (else freed at refs 0) */
    u_char dv[NGX_HTTP_ECHOSTREAM_SERIES_DV_MAX];
    ngx_str_t text;
    u_char *key; /* key_len bytes, then the text, in the same block */
};

typedef struct {
    ngx_http_echostream_series_entry_t **buckets; /* NULL: cache off */
    ngx_uint_t mask;
    ngx_queue_t lru;
    ngx_uint_t count;
    ngx_uint_t max;
    size_t bytes;
    size_t max_bytes;
    ngx_log_t *log;
} ngx_http_echostream_series_cache_t;

static ngx_http_echostream_series_cache_t ngx_http_echostream_series_cache;

static ngx_http_echostream_series_entry_t **
ngx_http_echostream_series_cache_find(
    const ngx_http_echostream_series_key_t *key);
static void ngx_http_echostream_series_cache_unlink(
    ngx_http_echostream_series_entry_t **ep);
static void ngx_http_echostream_series_cache_unref(void *data);
static ngx_uint_t ngx_http_echostream_series_cache_young(
    const ngx_http_echostream_series_entry_t *e);

ngx_int_t ngx_http_echostream_series_cache_init(ngx_uint_t entries,
                                                size_t bytes, ngx_log_t *log)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_uint_t n;

    ngx_memzero(c, sizeof(*c));
    ngx_queue_init(&c->lru);
    c->log = log;

    if (entries == 0 || bytes == 0) {
        return NGX_OK;
    }

    n = 16;
    while (n < entries) {
        n *= 2;
    }

    c->buckets =
        ngx_calloc(n * sizeof(ngx_http_echostream_series_entry_t *), log);
    if (c->buckets == NULL) {
        return NGX_ERROR;
    }

    c->mask = n - 1;
    c->max = entries;
    c->max_bytes = bytes;

    return NGX_OK;
}

void ngx_http_echostream_series_cache_exit(void)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_http_echostream_series_entry_t *e, **ep;
    ngx_queue_t *q;

    if (c->buckets == NULL) {
        return;
    }

    while (!ngx_queue_empty(&c->lru)) {
        q = ngx_queue_head(&c->lru);
        e = ngx_queue_data(q, ngx_http_echostream_series_entry_t, lru);

        ep = &c->buckets[e->hash & c->mask];
        while (*ep != e) {
            ep = &(*ep)->next;
        }
        ngx_http_echostream_series_cache_unlink(ep);
    }

    ngx_free(c->buckets);
    c->buckets = NULL;
}

ngx_uint_t ngx_http_echostream_series_cache_enabled(void)
{
    return ngx_http_echostream_series_cache.buckets != NULL;
}

void ngx_http_echostream_series_key(ngx_http_echostream_series_key_t *key,
                                    const u_char *tenant, size_t tenant_len,
                                    const ngx_str_t *topic, u_char step,
                                    int64_t from, ngx_uint_t npoints)
{
    u_char *p, *end;

    /* tenant and topic ids hold no NUL: the separators keep keys apart */
    p = key->data;
    end = key->data + sizeof(key->data);
    p = ngx_slprintf(p, end, "%*s%Z%V%Z%c%L:%ui", tenant_len, tenant, topic,
                     (int)step, from, npoints);

    key->len = p - key->data;
    key->hash = ngx_murmur_hash2(key->data, key->len);
}

ngx_uint_t ngx_http_echostream_series_cache_held(
    const ngx_http_echostream_series_key_t *key)
{
    ngx_http_echostream_series_entry_t **ep;

    ep = ngx_http_echostream_series_cache_find(key);

    return ep != NULL && ngx_http_echostream_series_cache_young(*ep);
}

ngx_str_t *ngx_http_echostream_series_cache_get(
    const ngx_http_echostream_series_key_t *key, const ngx_str_t *dv,
    ngx_pool_t *pool)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_http_echostream_series_entry_t **ep, *e;
    ngx_pool_cleanup_t *cln;

    ep = ngx_http_echostream_series_cache_find(key);
    if (ep == NULL) {
        return NULL;
    }

    e = *ep;

    if (!ngx_http_echostream_series_cache_young(e) ||
        (dv == NULL) != e->dv_nil ||
        (dv != NULL &&
         (dv->len != e->dv_len || ngx_memcmp(dv->data, e->dv, dv->len) != 0))) {
        ngx_http_echostream_series_cache_unlink(ep);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_echostream_series_cache_unref;
    cln->data = e;
    e->refs++;

    ngx_queue_remove(&e->lru);
    ngx_queue_insert_head(&c->lru, &e->lru);

    return &e->text;
}

void ngx_http_echostream_series_cache_put(
    const ngx_http_echostream_series_key_t *key, const ngx_str_t *dv,
    const u_char *text, size_t len)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_http_echostream_series_entry_t **ep, *e;
    ngx_queue_t *q;
    size_t size;

    if (c->buckets == NULL || len > c->max_bytes / 8 ||
        (dv != NULL && dv->len > NGX_HTTP_ECHOSTREAM_SERIES_DV_MAX)) {
        return;
    }

    ep = ngx_http_echostream_series_cache_find(key);
    if (ep != NULL) {
        ngx_http_echostream_series_cache_unlink(ep);
    }

    size = sizeof(ngx_http_echostream_series_entry_t) + key->len + len;

    while (c->count > 0 &&
           (c->count >= c->max || c->bytes + size > c->max_bytes)) {
        q = ngx_queue_last(&c->lru);
        e = ngx_queue_data(q, ngx_http_echostream_series_entry_t, lru);

        ep = &c->buckets[e->hash & c->mask];
        while (*ep != e) {
            ep = &(*ep)->next;
        }
        ngx_http_echostream_series_cache_unlink(ep);
    }

    e = ngx_alloc(size, c->log);
    if (e == NULL) {
        return;
    }

    e->hash = key->hash;
    e->refs = 0;
    e->stored = ngx_current_msec;
    e->size = size;
    e->key_len = key->len;
    e->key = (u_char *)(e + 1);
    ngx_memcpy(e->key, key->data, key->len);
    e->text.data = e->key + key->len;
    e->text.len = len;
    ngx_memcpy(e->text.data, text, len);

    e->dv_nil = (dv == NULL);
    e->dv_len = dv ? dv->len : 0;
    if (dv != NULL) {
        ngx_memcpy(e->dv, dv->data, dv->len);
    }

    e->linked = 1;
    e->next = c->buckets[key->hash & c->mask];
    c->buckets[key->hash & c->mask] = e;
    ngx_queue_insert_head(&c->lru, &e->lru);
    c->count++;
    c->bytes += size;
}

void ngx_http_echostream_series_cache_drop(
    const ngx_http_echostream_series_key_t *key)
{
    ngx_http_echostream_series_entry_t **ep;

    ep = ngx_http_echostream_series_cache_find(key);
    if (ep != NULL) {
        ngx_http_echostream_series_cache_unlink(ep);
    }
}

/* The chain link pointing at key's entry, or NULL. */
static ngx_http_echostream_series_entry_t **
ngx_http_echostream_series_cache_find(
    const ngx_http_echostream_series_key_t *key)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_http_echostream_series_entry_t **ep;

    if (c->buckets == NULL) {
        return NULL;
    }

    for (ep = &c->buckets[key->hash & c->mask]; *ep != NULL;
         ep = &(*ep)->next) {
        if ((*ep)->hash == key->hash && (*ep)->key_len == key->len &&
            ngx_memcmp((*ep)->key, key->data, key->len) == 0) {
            return ep;
        }
    }

    return NULL;
}

/* Takes the entry *ep out of the table; frees it unless being sent. */
static void
ngx_http_echostream_series_cache_unlink(ngx_http_echostream_series_entry_t **ep)
{
    ngx_http_echostream_series_cache_t *c = &ngx_http_echostream_series_cache;
    ngx_http_echostream_series_entry_t *e = *ep;

    *ep = e->next;
    ngx_queue_remove(&e->lru);
    e->linked = 0;
    c->count--;
    c->bytes -= e->size;

    if (e->refs == 0) {
        ngx_free(e);
    }
}

/* Pool cleanup of a request that sent an entry. */
static void ngx_http_echostream_series_cache_unref(void *data)
{
    ngx_http_echostream_series_entry_t *e = data;

    if (--e->refs == 0 && !e->linked) {
        ngx_free(e);
    }
}

static ngx_uint_t ngx_http_echostream_series_cache_young(
    const ngx_http_echostream_series_entry_t *e)
{
    return ngx_current_msec - e->stored < NGX_HTTP_ECHOSTREAM_SERIES_CACHE_TTL;
}
