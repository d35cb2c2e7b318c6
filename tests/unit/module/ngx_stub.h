/*
 * ngx_stub.h - the few nginx core functions the module's pure files call,
 * for running those files outside nginx (unit tests, fuzz targets).
 *
 * Debian's nginx-dev ships nginx's headers but none of its core sources,
 * so a test of module code links these instead: ngx_pnalloc hands out one
 * malloc a call (AddressSanitizer then sees every overrun of a pool
 * buffer, which a real pool would hide inside its block), released all at
 * once by ngx_stub_pool_free; ngx_strncasecmp and ngx_vslprintf keep
 * nginx's semantics for what the module uses (ngx_vslprintf: %s %*s %d %i %uz
 * %ui %O %%, and aborts on any other conversion, so a new one in module
 * code is noticed here instead of printed wrong).
 */

#ifndef NGX_STUB_H
#define NGX_STUB_H

#include <ngx_config.h>
#include <ngx_core.h>

/* a pool object to pass around: only its address is used */
extern ngx_pool_t ngx_stub_pool;

/* Frees everything ngx_pnalloc handed out since the last call. */
void ngx_stub_pool_free(void);

/* Makes the next ngx_pnalloc calls fail after n more succeed (-1: never). */
void ngx_stub_fail_after(long n);

#endif
