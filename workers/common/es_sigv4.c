/*
 * es_sigv4.c - SigV4 canonical request and signature (see es_sigv4.h).
 *
 * The canonical request is built in one growing heap buffer (a session
 * token alone can be 4 KB, so fixed stack buffers would either be huge or
 * cut it); the query pairs and headers are parsed into small arrays,
 * normalised and sorted, then written out. Only the HMAC chain touches the
 * secret, in stack buffers cleansed on every path out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "es_sigv4.h"

#define MAX_HEADERS 40
#define MAX_PAIRS   64
#define ALGORITHM   "AWS4-HMAC-SHA256"

/* A growing NUL-terminated string; oom sticks once an allocation failed. */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *np;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static void sb_escape(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];

        if (unreserved(c)) {
            sb_put(b, (const char *)&s[i], 1);
            continue;
        }
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        sb_put(b, esc, 3);
    }
}

int es_sigv4_escape(const char *src, size_t len, char *out, size_t size)
{
    sbuf b = {NULL, 0, 0, 0};
    int n = -1;

    sb_escape(&b, src, len);
    sb_put(&b, "", 0);
    if (!b.oom && b.len < size) {
        memcpy(out, b.p, b.len + 1);
        n = (int)b.len;
    }
    free(b.p);
    return n;
}

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;

    if (EVP_Digest(data ? data : "", len, md, &n, EVP_sha256(), NULL) != 1 ||
        n != 32) {
        return -1;
    }
    to_hex(md, 32, out);
    return 0;
}

/*
 * The canonical URI. For s3 the path as sent; otherwise each segment
 * escaped again after dot segments are resolved and empty ones dropped,
 * with the leading and a trailing '/' kept: what @smithy/signature-v4 does
 * with uriEscapePath, and what AWS checks.
 */
static void canonical_uri(sbuf *b, const char *path, int s3)
{
    const char *segs[256];
    size_t lens[256], n = 0;
    const char *p = path;
    size_t plen;

    if (path == NULL || *path == '\0') {
        sb_puts(b, "/");
        return;
    }
    if (s3) {
        sb_puts(b, path);
        return;
    }
    plen = strlen(path);
    while (*p) {
        size_t l = strcspn(p, "/");

        if (l == 0 || (l == 1 && p[0] == '.')) {
            /* empty or "." segment: dropped */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0) {
                n--;
            }
        } else if (n < 256) {
            segs[n] = p;
            lens[n] = l;
            n++;
        } else {
            b->oom = 1; /* absurd path: refuse rather than sign a cut one */
            return;
        }
        p += l;
        if (*p == '/') {
            p++;
        }
    }
    if (path[0] == '/') {
        sb_puts(b, "/");
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            sb_puts(b, "/");
        }
        sb_escape(b, segs[i], lens[i]);
    }
    if (n > 0 && path[plen - 1] == '/') {
        sb_puts(b, "/");
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes %XX escapes of s[0..n) and escapes the result canonically. */
static int put_requoted(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n) {
                return -1;
            }
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        sb_escape(b, &c, 1);
    }
    return 0;
}

typedef struct {
    char *key;
    char *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : strcmp(x->value, y->value);
}

static void free_pairs(pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
}

/*
 * Re-escapes and sorts the query's pairs. AWS sorts by the escaped name
 * (then value), which is what this does.
 */
static int canonical_query(sbuf *b, const char *query)
{
    pair v[MAX_PAIRS];
    size_t n = 0;
    const char *p = query;
    int rc = -1;

    if (p && *p == '?') {
        p++;
    }
    while (p && *p) {
        size_t l = strcspn(p, "&");
        const char *eq = memchr(p, '=', l);
        size_t kl = eq ? (size_t)(eq - p) : l;
        sbuf k = {NULL, 0, 0, 0}, val = {NULL, 0, 0, 0};

        if (l > 0) {
            if (n == MAX_PAIRS) {
                goto cleanup;
            }
            sb_put(&k, "", 0);
            sb_put(&val, "", 0);
            if (put_requoted(&k, p, kl) != 0 ||
                (eq && put_requoted(&val, eq + 1, l - kl - 1) != 0) || k.oom ||
                val.oom) {
                free(k.p);
                free(val.p);
                goto cleanup;
            }
            v[n].key = k.p;
            v[n].value = val.p;
            n++;
        }
        p += l;
        if (*p == '&') {
            p++;
        }
    }
    qsort(v, n, sizeof(v[0]), pair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            sb_puts(b, "&");
        }
        sb_puts(b, v[i].key);
        sb_puts(b, "=");
        sb_puts(b, v[i].value);
    }
    rc = 0;

cleanup:
    free_pairs(v, n);
    return rc;
}

typedef struct {
    char name[64];
    sbuf value;
} header;

static int header_cmp(const void *a, const void *b)
{
    return strcmp(((const header *)a)->name, ((const header *)b)->name);
}

static int tchar(unsigned char c)
{
    /* RFC 9110 token characters */
    return unreserved(c) || (c != '\0' && strchr("!#$%&'*+^`|", c) != NULL);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/*
 * Adds name: value to the list (name lower-cased, value trimmed with
 * inner white space collapsed), joining a repeated name with ','. -1 for
 * a malformed header or too many.
 */
static int add_header(header *h, size_t *n, const char *name, size_t nl,
                      const char *value)
{
    char lname[64];
    header *slot = NULL;
    const char *v = value;
    int pending_space = 0, wrote = 0;

    if (nl == 0 || nl >= sizeof(lname)) {
        return -1;
    }
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!tchar(c)) {
            return -1;
        }
        lname[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    lname[nl] = '\0';
    if (strpbrk(value, "\r\n")) {
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(h[i].name, lname) == 0) {
            slot = &h[i];
            sb_puts(&slot->value, ",");
            break;
        }
    }
    if (slot == NULL) {
        if (*n == MAX_HEADERS) {
            return -1;
        }
        slot = &h[(*n)++];
        memcpy(slot->name, lname, nl + 1);
        memset(&slot->value, 0, sizeof(slot->value));
        sb_put(&slot->value, "", 0);
    }
    for (; *v; v++) {
        if (is_space(*v)) {
            pending_space = wrote;
            continue;
        }
        if (pending_space) {
            sb_puts(&slot->value, " ");
            pending_space = 0;
        }
        sb_put(&slot->value, v, 1);
        wrote = 1;
    }
    return slot->value.oom ? -1 : 0;
}

static const char *find_header(const header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].name, name) == 0) {
            return h[i].value.p;
        }
    }
    return NULL;
}

/*
 * Builds the canonical request into out and the signed header list into
 * signed_list; writes the payload hash. 0 or -1.
 */
static int build(const es_sigv4_input *in, const char *token,
                 const char amz_date[17], char payload_hash[65], sbuf *out,
                 sbuf *signed_list)
{
    header h[MAX_HEADERS];
    size_t n = 0;
    int s3, rc = -1;
    const char *sha;

    if (in == NULL || in->method == NULL || in->host == NULL ||
        *in->host == '\0' || in->service == NULL || in->region == NULL ||
        (in->payload == NULL && in->payload_len > 0)) {
        return -1;
    }
    s3 = strcmp(in->service, "s3") == 0;
    for (const char *const *p = in->headers; p && *p; p++) {
        const char *colon = strchr(*p, ':');

        if (colon == NULL ||
            add_header(h, &n, *p, (size_t)(colon - *p), colon + 1) != 0) {
            goto cleanup;
        }
    }
    if (find_header(h, n, "host") || find_header(h, n, "x-amz-date") ||
        find_header(h, n, "authorization") ||
        find_header(h, n, "x-amz-security-token")) {
        goto cleanup;
    }
    if (add_header(h, &n, "host", 4, in->host) != 0 ||
        add_header(h, &n, "x-amz-date", 10, amz_date) != 0 ||
        (token && *token &&
         add_header(h, &n, "x-amz-security-token", 20, token) != 0)) {
        goto cleanup;
    }
    sha = find_header(h, n, "x-amz-content-sha256");
    if (s3 && sha) {
        if (strlen(sha) > 64) {
            goto cleanup;
        }
        memcpy(payload_hash, sha, strlen(sha) + 1);
    } else if (sha256_hex(in->payload, in->payload_len, payload_hash) != 0) {
        goto cleanup;
    }
    if (s3 && !sha &&
        add_header(h, &n, "x-amz-content-sha256", 20, payload_hash) != 0) {
        goto cleanup;
    }
    qsort(h, n, sizeof(h[0]), header_cmp);

    sb_puts(out, in->method);
    sb_puts(out, "\n");
    canonical_uri(out, in->path, s3);
    sb_puts(out, "\n");
    if (canonical_query(out, in->query) != 0) {
        goto cleanup;
    }
    sb_puts(out, "\n");
    for (size_t i = 0; i < n; i++) {
        sb_puts(out, h[i].name);
        sb_puts(out, ":");
        sb_puts(out, h[i].value.p);
        sb_puts(out, "\n");
        if (i > 0) {
            sb_puts(signed_list, ";");
        }
        sb_puts(signed_list, h[i].name);
    }
    sb_puts(out, "\n");
    sb_puts(out, signed_list->p ? signed_list->p : "");
    sb_puts(out, "\n");
    sb_puts(out, payload_hash);
    rc = out->oom || signed_list->oom ? -1 : 0;

cleanup:
    for (size_t i = 0; i < n; i++) {
        if (h[i].value.p) {
            /* the token header's copy is no secret to keep around either */
            OPENSSL_cleanse(h[i].value.p, h[i].value.cap);
        }
        free(h[i].value.p);
    }
    return rc;
}

static int format_date(long long now_s, char amz_date[17])
{
    time_t t = (time_t)(now_s > 0 ? now_s : (long long)time(NULL));
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16) {
        return -1;
    }
    return 0;
}

char *es_sigv4_canonical_request(const es_sigv4_input *in,
                                 const es_aws_creds *creds,
                                 const char amz_date[17])
{
    sbuf out = {NULL, 0, 0, 0}, list = {NULL, 0, 0, 0};
    char hash[65];

    if (build(in, creds ? creds->session_token : NULL, amz_date, hash, &out,
              &list) != 0) {
        free(out.p);
        out.p = NULL;
    }
    free(list.p);
    return out.p;
}

static int hmac(const void *key, size_t klen, const char *msg,
                unsigned char out[32])
{
    unsigned int n = 0;

    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
                strlen(msg), out, &n) != NULL &&
                   n == 32
               ? 0
               : -1;
}

/* The signature of string_to_sign with the key derived for the scope. */
static int signature(const es_aws_creds *creds, const char *date,
                     const char *region, const char *service,
                     const char *string_to_sign, char sig[65])
{
    char secret[sizeof(creds->secret_access_key) + 4];
    unsigned char k1[32], k2[32];
    int rc = -1;
    int n;

    n = snprintf(secret, sizeof(secret), "AWS4%s", creds->secret_access_key);
    if (n < 0 || (size_t)n >= sizeof(secret) ||
        hmac(secret, (size_t)n, date, k1) != 0 ||
        hmac(k1, 32, region, k2) != 0 || hmac(k2, 32, service, k1) != 0 ||
        hmac(k1, 32, "aws4_request", k2) != 0 ||
        hmac(k2, 32, string_to_sign, k1) != 0) {
        goto cleanup;
    }
    to_hex(k1, 32, sig);
    rc = 0;

cleanup:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    return rc;
}

int es_sigv4_sign(const es_sigv4_input *in, const es_aws_creds *creds,
                  char *authorization, size_t auth_size, char amz_date[17],
                  char payload_hash[65])
{
    sbuf canon = {NULL, 0, 0, 0}, list = {NULL, 0, 0, 0};
    sbuf sts = {NULL, 0, 0, 0};
    char date[9], scope[256], creq_hash[65], sig[65];
    int rc = -1, n;

    if (creds == NULL || creds->access_key_id[0] == '\0' ||
        creds->secret_access_key[0] == '\0' || authorization == NULL ||
        format_date(in ? in->now_s : 0, amz_date) != 0) {
        return -1;
    }
    if (build(in, creds->session_token, amz_date, payload_hash, &canon,
              &list) != 0 ||
        sha256_hex(canon.p, canon.len, creq_hash) != 0) {
        goto cleanup;
    }
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
                 in->region, in->service);
    if (n < 0 || (size_t)n >= sizeof(scope)) {
        goto cleanup;
    }
    sb_puts(&sts, ALGORITHM "\n");
    sb_puts(&sts, amz_date);
    sb_puts(&sts, "\n");
    sb_puts(&sts, scope);
    sb_puts(&sts, "\n");
    sb_puts(&sts, creq_hash);
    if (sts.oom ||
        signature(creds, date, in->region, in->service, sts.p, sig) != 0) {
        goto cleanup;
    }
    n = snprintf(authorization, auth_size,
                 ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 creds->access_key_id, scope, list.p, sig);
    if (n < 0 || (size_t)n >= auth_size) {
        authorization[0] = '\0';
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (canon.p) {
        OPENSSL_cleanse(canon.p, canon.cap); /* holds the session token */
    }
    free(canon.p);
    free(list.p);
    free(sts.p);
    return rc;
}
