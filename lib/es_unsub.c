/*
 * es_unsub.c - unsubscribe link signatures (es_unsub.h).
 *
 * HMAC-SHA256 through OpenSSL's one-shot HMAC(); the comparison of a
 * received signature runs over all 64 characters whatever they hold
 * (CRYPTO_memcmp), so its time says nothing about how much of a forgery
 * was right. The secret is read by one function for every program, so
 * nginx and the mail worker never disagree about a trailing newline.
 */
#include "es_unsub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ES_UNSUB_KEY_MIN 16

static const char es_unsub_prefix[] = "unsubscribe\n";

int es_unsub_sign(const unsigned char *key, size_t key_len, const char *tenant,
                  const char *sub, const char *list, char out_hex[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    const char *parts[3];
    unsigned int mac_len;
    unsigned char *msg;
    size_t i, n, len[3];
    int rc;

    out_hex[0] = '\0';

    if (key == NULL || key_len == 0 || key_len > ES_UNSUB_KEY_MAX ||
        tenant == NULL || sub == NULL || list == NULL) {
        return -1;
    }

    parts[0] = tenant;
    parts[1] = sub;
    parts[2] = list;

    n = sizeof(es_unsub_prefix) - 1;
    for (i = 0; i < 3; i++) {
        len[i] = strlen(parts[i]);
        if (memchr(parts[i], '\n', len[i]) != NULL || len[i] > 4096) {
            return -1;
        }
        n += len[i] + 1;
    }

    msg = OPENSSL_malloc(n);
    if (msg == NULL) {
        return -1;
    }

    /* "unsubscribe\n" tenant "\n" sub "\n" list */
    memcpy(msg, es_unsub_prefix, sizeof(es_unsub_prefix) - 1);
    n = sizeof(es_unsub_prefix) - 1;
    for (i = 0; i < 3; i++) {
        if (i > 0) {
            msg[n++] = '\n';
        }
        memcpy(msg + n, parts[i], len[i]);
        n += len[i];
    }

    mac_len = 0;
    rc = -1;
    if (HMAC(EVP_sha256(), key, (int)key_len, msg, n, mac, &mac_len) != NULL &&
        mac_len * 2 == ES_UNSUB_SIG_LEN) {
        rc = 0;
    }
    OPENSSL_free(msg);

    if (rc != 0) {
        return -1;
    }

    for (i = 0; i < mac_len; i++) {
        out_hex[2 * i] = hex[mac[i] >> 4];
        out_hex[2 * i + 1] = hex[mac[i] & 0xf];
    }
    out_hex[ES_UNSUB_SIG_LEN] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

int es_unsub_verify(const unsigned char *key, size_t key_len,
                    const char *tenant, const char *sub, const char *list,
                    const char *sig_hex)
{
    char want[ES_UNSUB_SIG_LEN + 1];
    int same;

    if (sig_hex == NULL ||
        strnlen(sig_hex, ES_UNSUB_SIG_LEN + 1) != ES_UNSUB_SIG_LEN) {
        return 0;
    }

    if (es_unsub_sign(key, key_len, tenant, sub, list, want) != 0) {
        return 0;
    }

    same = CRYPTO_memcmp(want, sig_hex, ES_UNSUB_SIG_LEN) == 0;
    OPENSSL_cleanse(want, sizeof(want));
    return same;
}

long es_unsub_key_read(const char *path, unsigned char *buf, size_t size,
                       char *err, size_t err_size)
{
    size_t n, cap;
    FILE *f;
    int c;

    cap = size < ES_UNSUB_KEY_MAX ? size : ES_UNSUB_KEY_MAX;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "cannot open: %s", strerror(errno));
        return -1;
    }

    n = fread(buf, 1, cap, f);
    if (ferror(f)) {
        snprintf(err, err_size, "cannot read: %s", strerror(errno));
        fclose(f);
        return -1;
    }

    c = (n == cap) ? fgetc(f) : EOF;
    fclose(f);
    if (c != EOF) {
        OPENSSL_cleanse(buf, n);
        snprintf(err, err_size, "larger than %d bytes", ES_UNSUB_KEY_MAX);
        return -1;
    }

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    if (n < ES_UNSUB_KEY_MIN) {
        OPENSSL_cleanse(buf, n);
        snprintf(err, err_size,
                 "holds fewer than %d bytes (a newline at its end not "
                 "counted)",
                 ES_UNSUB_KEY_MIN);
        return -1;
    }

    return (long)n;
}

/* s percent-encoded but for RFC 3986's unreserved characters; 0 or -1. */
static int pct_encode(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (o + 4 > size) {
            return -1;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

int es_unsub_link(const unsigned char *key, size_t key_len,
                  const char *base_url, const char *tenant, const char *sub,
                  const char *list, char *out, size_t size)
{
    char sig[ES_UNSUB_SIG_LEN + 1], enc[768];
    int n;

    if (base_url == NULL ||
        es_unsub_sign(key, key_len, tenant, sub, list, sig) != 0 ||
        pct_encode(sub, enc, sizeof(enc)) != 0) {
        return -1;
    }
    n = snprintf(out, size, "%sapi/v1/unsubscribe?t=%s&s=%s&l=%s&sig=%s",
                 base_url, tenant, enc, list, sig);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
