/*
 * es_req_b64url.h - base64url without padding (RFC 4648 section 5), the
 * encoding of the API's opaque cursors.
 *
 * Written here rather than taken from nginx (ngx_encode_base64url) so the
 * fuzz targets run the cursor code the module runs. Decoding accepts the
 * canonical text only: the alphabet, no '=', no length that leaves a
 * lone character, and zero bits in what the last character pads; so
 * every text that decodes is exactly what encoding its bytes gives, and
 * no two texts name the same cursor.
 */
#ifndef ES_REQ_B64URL_H
#define ES_REQ_B64URL_H

#include <stddef.h>

/* characters that encode n bytes (no padding) */
#define ES_REQ_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Encodes src[0..n) into out, which has room for ES_REQ_B64URL_LEN(n) + 1
 * bytes, NUL-terminated; returns the length without the NUL.
 */
size_t es_req_b64url_encode(const unsigned char *src, size_t n, char *out);

/*
 * Decodes the canonical text src[0..n) into out (room for size bytes),
 * its length in *outlen. Returns 0, or -1 when the text is not canonical
 * base64url or out is too small (out's content is then undefined).
 */
int es_req_b64url_decode(const char *src, size_t n, unsigned char *out,
                         size_t size, size_t *outlen);

#endif
