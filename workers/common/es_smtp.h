/*
 * es_smtp.h - hands one built message (es_mime.h) to an SMTP server.
 *
 * libcurl speaks the protocol: EHLO, STARTTLS when offered, AUTH when
 * credentials are configured, MAIL FROM, one RCPT TO a recipient, DATA.
 * The TLS policy is decided here, once: STARTTLS is always used when the
 * server offers it, and with require_tls it is mandatory for every host
 * but this machine's loopback (where a local mail catcher without TLS is
 * the normal case and nothing crosses a network). The answer sorts every
 * failure into retry-later or give-up, so the caller's queue needs no
 * knowledge of SMTP replies.
 */
#ifndef ES_SMTP_H
#define ES_SMTP_H

#include <stddef.h>

typedef struct {
    const char *url;      /* smtp://host[:port] or smtps://host[:port] */
    const char *user;     /* NULL or "" = no AUTH */
    const char *password; /* never logged, never in err */
    int require_tls;      /* STARTTLS mandatory for non-loopback hosts */
    const char *ca_file;  /* PEM CA bundle of a private CA, or NULL/"" */
    long timeout_ms;      /* whole exchange; <= 0 = 30 s */
} es_smtp_config;

/*
 * Sends msg[0..len) (CRLF lines, as es_mime_build makes it) from
 * from_addr to the nto recipients. Addresses may be plain addr-specs or
 * mailboxes ("Name <addr>"): only the addr-spec goes into the envelope.
 * Returns 0 when the server accepted the message, 1 for a failure worth
 * retrying later (connection refused or dropped, timeout, a 4xx reply),
 * -1 for one that will not go away by itself (a 5xx reply such as a
 * refused recipient or failed login, TLS required but not offered, a
 * certificate that does not verify, a bad URL or address). err (may be
 * NULL) gets a one-line reason without credentials.
 */
int es_smtp_send(const es_smtp_config *cfg, const char *from_addr,
                 const char *const *to, size_t nto, const char *msg, size_t len,
                 char *err, size_t err_size);

/*
 * 1 when the host of url is this machine's loopback: "localhost",
 * 127.0.0.0/8 or ::1; 0 otherwise, also for a URL that does not parse.
 */
int es_smtp_url_is_loopback(const char *url);

/*
 * 1 when a session to url must upgrade with STARTTLS or fail: require_tls
 * is set and the host is not loopback. Otherwise STARTTLS is still used
 * whenever the server offers it.
 */
int es_smtp_tls_mandatory(const char *url, int require_tls);

/*
 * The outcome (0, 1, -1 as es_smtp_send) of a transfer that ended with
 * libcurl result curl_code and last SMTP reply code reply (0 = none).
 */
int es_smtp_outcome(int curl_code, long reply);

#endif
