/*
 * es_mime.h - one e-mail message (RFC 5322 + MIME) built from plain parts.
 *
 * The alert worker hands over UTF-8 text and gets back the exact bytes to
 * send, for SMTP (es_smtp.h) and for SES's raw mail API alike. The message
 * is 7-bit clean and every line ends in CRLF and stays within 78 columns
 * (998 octets at most, a URL or id that cannot be folded), so no relay has
 * to re-encode it: headers with non-ASCII text become RFC 2047 encoded
 * words, bodies are quoted-printable. Anything that could smuggle a header
 * or a recipient (CR or LF in a value, invalid UTF-8, an address that is
 * not a plain addr-spec) makes the build fail rather than being cleaned
 * up: the input is a bug or an attack, not something to guess at.
 */
#ifndef ES_MIME_H
#define ES_MIME_H

#include <stddef.h>

/* longest addr-spec (RFC 5321's limit on a path, less the brackets) */
#define ES_MIME_ADDR_MAX 254

typedef struct {
    /* "addr@example.com", "Name <addr@example.com>" or
       "\"Doe, Jane\" <addr@example.com>"; the name may be any UTF-8 */
    const char *from;
    const char *const *to; /* nto mailboxes, the same forms as from */
    size_t nto;
    const char *subject;    /* UTF-8 */
    const char *text;       /* UTF-8, required ("" is fine) */
    const char *html;       /* UTF-8, or NULL: text/plain only */
    const char *message_id; /* without <>; NULL = generated; a bare local
                               part (no '@') gets the From domain */
    const char *list_unsubscribe_url; /* http(s) URL, or NULL = none */
    long long date_s;                 /* Unix time of Date:; 0 = now */
} es_mime_message;

/*
 * Builds the message. Returns a malloc'd NUL-terminated string (free it)
 * and its length in *len (len may be NULL), or NULL when an input is
 * refused or memory ran out. Refused: a header value (subject, display
 * name) with CR, LF or invalid UTF-8, text or html that is not valid
 * UTF-8, an address that is not a plain ASCII addr-spec (dot-atom
 * local part @ a host name of letters, digits and inner '-'), no
 * recipient, a message id that is not dot-atom "left@right", an
 * unsubscribe URL that is not printable http(s) without '<', '>', a text
 * or html part over 8 MiB.
 */
char *es_mime_build(const es_mime_message *m, size_t *len);

/*
 * 1 when s is a plain addr-spec as es_mime_build accepts it, else 0.
 */
int es_mime_addr_valid(const char *s);

/*
 * Writes the addr-spec of a mailbox in any of the forms of
 * es_mime_message.from into out (out_size bytes, NUL-terminated): what
 * SMTP's MAIL FROM and RCPT TO take. Returns 0, or -1 when the mailbox
 * is refused or out is too small.
 */
int es_mime_addr_spec(const char *mailbox, char *out, size_t out_size);

#endif
