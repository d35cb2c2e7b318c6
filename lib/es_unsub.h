/*
 * es_unsub.h - the signature of an unsubscribe link: who may stop a
 * member's digest or alert mail without signing in.
 *
 * A mail carries a link GET/POST /api/v1/unsubscribe?t=<tenant>&s=<sub>&
 * l=<digest|alerts>&sig=<hex>: the mail worker signs it, the nginx module
 * checks it, both with this code and the same secret (the file named by
 * mail.secret_file and nginx's echostream_mail_secret_file). The
 * signature is the lower-case hex HMAC-SHA256, keyed with the secret, of
 * "unsubscribe\n" + tenant + "\n" + sub + "\n" + list: the fixed first
 * line keeps the key from ever signing anything else that looks alike,
 * and no part may hold a newline, so no two link texts sign the same.
 *
 * The link proves only that we sent it; it names one member and one list,
 * so a leaked link can stop one kind of mail of one person and nothing
 * else.
 */
#ifndef ES_UNSUB_H
#define ES_UNSUB_H

#include <stddef.h>

/* lower-case hex of an HMAC-SHA256: the "sig" argument */
#define ES_UNSUB_SIG_LEN 64

/* the largest secret file read (bytes) */
#define ES_UNSUB_KEY_MAX 4096

/*
 * Signs one link: the lower-case hex HMAC into out_hex, NUL-terminated.
 * Returns 0, or -1 when key is empty, a part is NULL or holds a newline,
 * or OpenSSL fails.
 */
int es_unsub_sign(const unsigned char *key, size_t key_len, const char *tenant,
                  const char *sub, const char *list, char out_hex[65]);

/*
 * 1 when sig_hex is the signature of (tenant, sub, list) under key,
 * compared in constant time; 0 otherwise (NULL, wrong length, upper-case
 * hex, anything es_unsub_sign refuses).
 */
int es_unsub_verify(const unsigned char *key, size_t key_len,
                    const char *tenant, const char *sub, const char *list,
                    const char *sig_hex);

/*
 * The whole link into out (size bytes): base_url (the dashboard's public
 * address, ending in '/'), then "api/v1/unsubscribe?t=…&s=…&l=…&sig=…"
 * with sub percent-encoded (user subs are UUIDs or e-mail-like names).
 * Returns 0, or -1 when the link cannot be signed or does not fit.
 */
int es_unsub_link(const unsigned char *key, size_t key_len,
                  const char *base_url, const char *tenant, const char *sub,
                  const char *list, char *out, size_t size);

/*
 * Reads the secret file at path into buf (size bytes, at most
 * ES_UNSUB_KEY_MAX used) without its trailing newlines ("\n" or "\r\n",
 * as editors and `echo` leave them), so every program keys its HMAC with
 * the same bytes. Returns the key's length (> 0), or -1 with a reason in
 * err (err_size bytes): the file cannot be read, is larger than
 * ES_UNSUB_KEY_MAX, or holds fewer than 16 bytes. The secret itself is
 * never put in err.
 */
long es_unsub_key_read(const char *path, unsigned char *buf, size_t size,
                       char *err, size_t err_size);

#endif
