/*
 * es_mime.c - a whole message from its parts (es_mime.h): the header block
 * in a fixed order, then one text/plain part or a multipart/alternative
 * of text/plain and text/html, bodies in quoted-printable.
 *
 * Quoted-printable rather than base64 keeps mostly-ASCII alert text
 * readable in a raw dump and small, while making the message 7-bit clean
 * with lines of at most 76 characters whatever the input's line lengths.
 * The encoder also escapes a '.' or "From " at the start of a line, so a
 * relay that dot-stuffs badly or an mbox writer cannot alter the text.
 * The boundary starts with "=_", which quoted-printable can never
 * produce, and is random, so no body can contain it. Randomness (boundary,
 * generated Message-ID) comes from OpenSSL's RAND_bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "es_mime.h"
#include "es_mime_int.h"
#include "es_utf8.h"

/* more recipients in one message than this is a bug upstream */
#define ES_MIME_TO_MAX 1000
/* an unsubscribe URL longer than this would not fit a header line */
#define ES_MIME_URL_MAX 900
/* a text or html part longer than this is a bug upstream (SES takes 40 MB
   a message, quoted-printable may triple the size) */
#define ES_MIME_PART_MAX (8 * 1024 * 1024)

static const char hexdig[] = "0123456789ABCDEF";

/* the representation of the character s[0..k) at column col of a line */
static size_t qp_rep(const char *s, size_t k, size_t left, size_t col,
                     char rep[13])
{
    unsigned char c = (unsigned char)s[0];
    /* trailing white space would be stripped in transport (RFC 2045) */
    int at_eol = left == k || s[k] == '\r' || s[k] == '\n';
    int escape;

    if (k > 1) {
        escape = 1;
    } else if (c == ' ' || c == '\t') {
        escape = at_eol;
    } else if (c == '=' || c < 0x20 || c > 0x7e) {
        escape = 1;
    } else if (col == 0 && c == '.') {
        escape = 1;
    } else {
        escape =
            col == 0 && c == 'F' && left >= 5 && memcmp(s, "From ", 5) == 0;
    }
    if (!escape) {
        rep[0] = (char)c;
        return 1;
    }
    for (size_t i = 0; i < k; i++) {
        unsigned char b = (unsigned char)s[i];

        rep[3 * i] = '=';
        rep[3 * i + 1] = hexdig[b >> 4];
        rep[3 * i + 2] = hexdig[b & 0x0f];
    }
    return 3 * k;
}

int es_mime_qp(es_mbuf *b, const char *s, size_t n)
{
    size_t i = 0, col = 0;

    if (!es_utf8_valid(s, n)) {
        return -1;
    }
    while (i < n) {
        char rep[13];
        size_t k, w, limit;

        if (s[i] == '\r' || s[i] == '\n') {
            es_mbuf_put(b, "\r\n", 2);
            col = 0;
            i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        k = es_utf8_char_len((const unsigned char *)s + i, n - i);
        w = qp_rep(s + i, k, n - i, col, rep);
        /* a character ending its line may take the 76th column; any
           other leaves room for the soft break's '=' */
        limit = (i + k == n || s[i + k] == '\r' || s[i + k] == '\n')
                    ? ES_MIME_QP_LINE
                    : ES_MIME_QP_LINE - 1;
        if (col + w > limit) {
            es_mbuf_put(b, "=\r\n", 3);
            col = 0;
            w = qp_rep(s + i, k, n - i, col, rep);
        }
        es_mbuf_put(b, rep, w);
        col += w;
        i += k;
    }
    return 0;
}

static void hex_random(char *out, size_t nbytes, int *ok)
{
    unsigned char r[32];

    if (nbytes > sizeof(r) || RAND_bytes(r, (int)nbytes) != 1) {
        *ok = 0;
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = "0123456789abcdef"[r[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[r[i] & 0x0f];
    }
    out[2 * nbytes] = '\0';
}

/* RFC 5322 3.3 date-time in UTC, with English names whatever the locale */
static void put_date(es_mbuf *b, long long date_s)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    time_t t = date_s > 0 ? (time_t)date_s : time(NULL);
    struct tm tm;
    char line[64];

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(line, sizeof(line),
             "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
             days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    es_mbuf_puts(b, line);
}

/* 1 when u is a URL a List-Unsubscribe header can carry as <u> */
static int unsub_url_ok(const char *u)
{
    size_t n = strlen(u);

    if (n > ES_MIME_URL_MAX || !(strncasecmp(u, "https://", 8) == 0 ||
                                 strncasecmp(u, "http://", 7) == 0)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];

        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') {
            return 0;
        }
    }
    return 1;
}

static void put_part_header(es_mbuf *b, const char *type)
{
    es_mbuf_puts(b, "Content-Type: ");
    es_mbuf_puts(b, type);
    es_mbuf_puts(b, "; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
}

/* the header block up to and including MIME-Version */
/* A full dot-atom id, or a bare local part the From domain completes. */
static int message_id_ok(const char *s)
{
    char probe[1024];

    if (strchr(s, '@') != NULL) {
        return es_mime_dot_atom_id(s);
    }
    return snprintf(probe, sizeof(probe), "%s@x", s) < (int)sizeof(probe) &&
           es_mime_dot_atom_id(probe);
}

static int put_headers(es_mbuf *b, const es_mime_message *m, const char *id)
{
    char from_addr[ES_MIME_ADDR_MAX + 1];

    put_date(b, m->date_s);
    if (es_mhdr_mailboxes(b, "From", &m->from, 1, from_addr) ||
        es_mhdr_mailboxes(b, "To", m->to, m->nto, NULL) ||
        es_mhdr_unstructured(b, "Subject", m->subject)) {
        return -1;
    }
    es_mbuf_puts(b, "Message-ID: <");
    if (m->message_id != NULL) {
        es_mbuf_puts(b, m->message_id);
        if (strchr(m->message_id, '@') == NULL) {
            /* at the sender's own domain, as RFC 5322 3.6.4 advises */
            es_mbuf_puts(b, "@");
            es_mbuf_puts(b, strchr(from_addr, '@') + 1);
        }
    } else {
        /* unique without coordination: the time plus 128 random bits,
           at the sender's own domain (RFC 5322 3.6.4) */
        char line[64];

        snprintf(line, sizeof(line), "%lld.%s@",
                 m->date_s > 0 ? m->date_s : (long long)time(NULL), id);
        es_mbuf_puts(b, line);
        es_mbuf_puts(b, strchr(from_addr, '@') + 1);
    }
    es_mbuf_puts(b, ">\r\n");
    if (m->list_unsubscribe_url != NULL) {
        /* RFC 2369 and RFC 8058's one-click POST */
        es_mbuf_puts(b, "List-Unsubscribe: <");
        es_mbuf_puts(b, m->list_unsubscribe_url);
        es_mbuf_puts(b, ">\r\nList-Unsubscribe-Post: "
                        "List-Unsubscribe=One-Click\r\n");
    }
    /* RFC 3834: no auto-replies (vacation notices) to a machine */
    es_mbuf_puts(b, "Auto-Submitted: auto-generated\r\n"
                    "MIME-Version: 1.0\r\n");
    return 0;
}

static int put_bodies(es_mbuf *b, const es_mime_message *m,
                      const char *boundary)
{
    if (m->html == NULL) {
        size_t n = strlen(m->text);

        put_part_header(b, "text/plain");
        if (es_mime_qp(b, m->text, n)) {
            return -1;
        }
        /* end on a line break, as SMTP's DATA and readers expect */
        if (n > 0 && m->text[n - 1] != '\n' && m->text[n - 1] != '\r') {
            es_mbuf_puts(b, "\r\n");
        }
        return 0;
    }
    es_mbuf_puts(b, "Content-Type: multipart/alternative;\r\n boundary=\"");
    es_mbuf_puts(b, boundary);
    es_mbuf_puts(b, "\"\r\n\r\nThis is a multi-part message in MIME format."
                    "\r\n\r\n--");
    es_mbuf_puts(b, boundary);
    es_mbuf_puts(b, "\r\n");
    put_part_header(b, "text/plain");
    if (es_mime_qp(b, m->text, strlen(m->text))) {
        return -1;
    }
    /* the CRLF before a boundary belongs to the boundary (RFC 2046) */
    es_mbuf_puts(b, "\r\n--");
    es_mbuf_puts(b, boundary);
    es_mbuf_puts(b, "\r\n");
    put_part_header(b, "text/html");
    if (es_mime_qp(b, m->html, strlen(m->html))) {
        return -1;
    }
    es_mbuf_puts(b, "\r\n--");
    es_mbuf_puts(b, boundary);
    es_mbuf_puts(b, "--\r\n");
    return 0;
}

char *es_mime_build(const es_mime_message *m, size_t *len)
{
    es_mbuf b = {0};
    char id[33], boundary[40];
    int ok = 1;

    if (m == NULL || m->from == NULL || m->to == NULL || m->nto == 0 ||
        m->nto > ES_MIME_TO_MAX || m->subject == NULL || m->text == NULL) {
        return NULL;
    }
    if (strlen(m->text) > ES_MIME_PART_MAX ||
        (m->html != NULL && strlen(m->html) > ES_MIME_PART_MAX)) {
        return NULL;
    }
    if (m->message_id != NULL && !message_id_ok(m->message_id)) {
        return NULL;
    }
    if (m->list_unsubscribe_url != NULL &&
        !unsub_url_ok(m->list_unsubscribe_url)) {
        return NULL;
    }
    hex_random(id, 16, &ok);
    memcpy(boundary, "=_es_", 5);
    hex_random(boundary + 5, 16, &ok);
    if (!ok) {
        return NULL;
    }
    if (put_headers(&b, m, id) || put_bodies(&b, m, boundary) || b.oom) {
        free(b.p);
        return NULL;
    }
    if (len != NULL) {
        *len = b.len;
    }
    return b.p;
}
