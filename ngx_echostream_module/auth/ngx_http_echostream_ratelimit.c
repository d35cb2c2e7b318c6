/*
 * ngx_http_echostream_ratelimit.c - per-tenant leaky bucket in shared
 * memory.
 *
 * nginx's own limit_req runs before the access phase, when the tenant is
 * not known yet (it comes from the verified token), so the API keeps its
 * own bucket per tenant, shaped like limit_req's: excess in thousandths
 * of a request, drained at the configured rate, refused above the burst.
 * The zone is shared by all workers, so the limit holds for the whole
 * nginx, not per worker. Idle tenants are forgotten after a minute (LRU
 * queue). A full zone never lets a request through uncounted: the least
 * recently seen tenant's bucket is evicted to make room (its next request
 * starts a fresh bucket), with a log line; only when even that frees no
 * room is the request refused (503). Every new user creates a tenant, so
 * a zone that failed open could be filled by sign-ups to lift the limit
 * for everyone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/ngx_http_echostream_module.h"
#include "auth/ngx_http_echostream_ratelimit.h"

#define NGX_HTTP_ECHOSTREAM_RATE_IDLE 60000

typedef struct {
    ngx_queue_t queue;
    ngx_msec_t last;
    ngx_uint_t excess;
    size_t len;
    u_char data[1];
} ngx_http_echostream_rate_node_t;

typedef struct {
    ngx_rbtree_t rbtree;
    ngx_rbtree_node_t sentinel;
    ngx_queue_t queue;
} ngx_http_echostream_rate_sh_t;

typedef struct {
    ngx_http_echostream_rate_sh_t *sh;
    ngx_slab_pool_t *shpool;
} ngx_http_echostream_rate_ctx_t;

static ngx_http_echostream_rate_ctx_t ngx_http_echostream_rate;

#define ngx_http_echostream_rate_data(node)                                    \
    ((ngx_http_echostream_rate_node_t *)((u_char *)(node) +                    \
                                         sizeof(ngx_rbtree_node_t)))

static void ngx_http_echostream_rate_insert(ngx_rbtree_node_t *temp,
                                            ngx_rbtree_node_t *node,
                                            ngx_rbtree_node_t *sentinel);
static void ngx_http_echostream_rate_expire(ngx_uint_t n, ngx_msec_int_t idle);

ngx_int_t ngx_http_echostream_ratelimit_init_zone(ngx_shm_zone_t *zone,
                                                  void *data)
{
    ngx_http_echostream_rate_ctx_t *octx = data;
    ngx_slab_pool_t *shpool;

    shpool = (ngx_slab_pool_t *)zone->shm.addr;
    ngx_http_echostream_rate.shpool = shpool;

    if (octx != NULL && octx->sh != NULL) {
        /* reload: keep the buckets */
        ngx_http_echostream_rate.sh = octx->sh;
        zone->data = &ngx_http_echostream_rate;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        ngx_http_echostream_rate.sh = shpool->data;
        zone->data = &ngx_http_echostream_rate;
        return NGX_OK;
    }

    ngx_http_echostream_rate.sh =
        ngx_slab_alloc(shpool, sizeof(ngx_http_echostream_rate_sh_t));
    if (ngx_http_echostream_rate.sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_echostream_rate.sh;

    ngx_rbtree_init(&ngx_http_echostream_rate.sh->rbtree,
                    &ngx_http_echostream_rate.sh->sentinel,
                    ngx_http_echostream_rate_insert);
    ngx_queue_init(&ngx_http_echostream_rate.sh->queue);

    zone->data = &ngx_http_echostream_rate;

    return NGX_OK;
}

ngx_int_t ngx_http_echostream_ratelimit_check(ngx_http_request_t *r,
                                              const u_char *tenant, size_t len,
                                              ngx_uint_t *retry_after)
{
    ngx_http_echostream_main_conf_t *emcf;
    ngx_http_echostream_rate_node_t *rn;
    ngx_rbtree_node_t *node, *sentinel;
    ngx_slab_pool_t *shpool;
    ngx_msec_int_t ms;
    ngx_int_t excess, rc;
    uint32_t hash;
    size_t size;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_echostream_module);
    if (emcf->rate == 0 || ngx_http_echostream_rate.sh == NULL) {
        return NGX_OK;
    }

    shpool = ngx_http_echostream_rate.shpool;
    hash = ngx_crc32_short((u_char *)tenant, len);
    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    node = ngx_http_echostream_rate.sh->rbtree.root;
    sentinel = ngx_http_echostream_rate.sh->rbtree.sentinel;

    while (node != sentinel) {
        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        rn = ngx_http_echostream_rate_data(node);
        if (rn->len == len && ngx_memcmp(rn->data, tenant, len) == 0) {
            break;
        }
        node = (ngx_memn2cmp((u_char *)tenant, rn->data, len, rn->len) < 0)
                   ? node->left
                   : node->right;
    }

    if (node != sentinel) {
        rn = ngx_http_echostream_rate_data(node);

        ms = (ngx_msec_int_t)(ngx_current_msec - rn->last);
        if (ms < 0) {
            ms = 0;
        }

        excess =
            (ngx_int_t)rn->excess - (ngx_int_t)(emcf->rate * ms / 1000) + 1000;
        if (excess < 0) {
            excess = 0;
        }

        if ((ngx_uint_t)excess > emcf->burst) {
            /* whole seconds until the excess drains back under the burst */
            *retry_after =
                (((ngx_uint_t)excess - emcf->burst) * 1000 / emcf->rate + 999) /
                1000;
            if (*retry_after == 0) {
                *retry_after = 1;
            }
            rc = NGX_BUSY;

        } else {
            rn->excess = (ngx_uint_t)excess;
            rn->last = ngx_current_msec;
            ngx_queue_remove(&rn->queue);
            ngx_queue_insert_head(&ngx_http_echostream_rate.sh->queue,
                                  &rn->queue);
        }

        ngx_shmtx_unlock(&shpool->mutex);
        return rc;
    }

    ngx_http_echostream_rate_expire(2, NGX_HTTP_ECHOSTREAM_RATE_IDLE);

    size = sizeof(ngx_rbtree_node_t) +
           offsetof(ngx_http_echostream_rate_node_t, data) + len;

    node = ngx_slab_alloc_locked(shpool, size);
    if (node == NULL) {
        ngx_http_echostream_rate_expire(64, NGX_HTTP_ECHOSTREAM_RATE_IDLE);
        node = ngx_slab_alloc_locked(shpool, size);
    }

    if (node == NULL) {
        /* full of active tenants: the least recently seen ones make room */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream api: rate limit zone is full, evicting the "
                      "least recently seen tenants");
        ngx_http_echostream_rate_expire(4, 0);
        node = ngx_slab_alloc_locked(shpool, size);
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "echostream api: rate limit zone has no room, refusing "
                      "the request");
        *retry_after = 1;
        return NGX_ERROR;
    }

    node->key = hash;
    rn = ngx_http_echostream_rate_data(node);
    rn->len = len;
    rn->excess = 0;
    rn->last = ngx_current_msec;
    ngx_memcpy(rn->data, tenant, len);

    ngx_rbtree_insert(&ngx_http_echostream_rate.sh->rbtree, node);
    ngx_queue_insert_head(&ngx_http_echostream_rate.sh->queue, &rn->queue);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}

/* Frees up to n buckets idle for at least idle ms, oldest first (lock
 * held); idle 0 frees the n least recently seen, idle or not. */
static void ngx_http_echostream_rate_expire(ngx_uint_t n, ngx_msec_int_t idle)
{
    ngx_http_echostream_rate_node_t *rn;
    ngx_rbtree_node_t *node;
    ngx_queue_t *q;

    while (n-- > 0 && !ngx_queue_empty(&ngx_http_echostream_rate.sh->queue)) {
        q = ngx_queue_last(&ngx_http_echostream_rate.sh->queue);
        rn = ngx_queue_data(q, ngx_http_echostream_rate_node_t, queue);

        if ((ngx_msec_int_t)(ngx_current_msec - rn->last) < idle) {
            return;
        }

        ngx_queue_remove(q);
        node = (ngx_rbtree_node_t *)((u_char *)rn - sizeof(ngx_rbtree_node_t));
        ngx_rbtree_delete(&ngx_http_echostream_rate.sh->rbtree, node);
        ngx_slab_free_locked(ngx_http_echostream_rate.shpool, node);
    }
}

static void ngx_http_echostream_rate_insert(ngx_rbtree_node_t *temp,
                                            ngx_rbtree_node_t *node,
                                            ngx_rbtree_node_t *sentinel)
{
    ngx_http_echostream_rate_node_t *a, *b;
    ngx_rbtree_node_t **p;

    for (;;) {
        if (node->key < temp->key) {
            p = &temp->left;
        } else if (node->key > temp->key) {
            p = &temp->right;
        } else {
            a = ngx_http_echostream_rate_data(node);
            b = ngx_http_echostream_rate_data(temp);
            p = (ngx_memn2cmp(a->data, b->data, a->len, b->len) < 0)
                    ? &temp->left
                    : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }
        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
