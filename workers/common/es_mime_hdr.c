/*
 * es_mime_hdr.c - header lines of a message (es_mime_int.h): folding,
 * RFC 2047 encoded words, mailboxes and addr-specs.
 *
 * A header is written as a run of tokens that are never split; the writer
 * folds (CRLF SP) before a token that would push the line past 78
 * columns, so no folding decision is ever made on text already written.
 * Non-ASCII text becomes B encoded words ("=?UTF-8?B?...?="): each is
 * sized to what is left of the line and at most 75 characters, and holds
 * whole UTF-8 characters only, since a decoder may decode each word on
 * its own. Whitespace between two encoded words is dropped by decoders
 * (RFC 2047 6.2), so splitting a text across words keeps it exact.
 * Printable ASCII that needs nothing else stays readable: atoms, or a
 * quoted-string when a display name holds specials.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "es_mime.h"
#include "es_mime_int.h"
#include "es_utf8.h"

/* the longest word of a plain (unencoded) header value; longer ones are
   encoded, because a word cannot be folded and "Subject: " + 69 = 78 */
#define ES_MIME_PLAIN_WORD_MAX 69

/* "=?UTF-8?B?" and "?=" around the base64 of an encoded word */
#define ES_MIME_WORD_OVERHEAD 12

void es_mbuf_put(es_mbuf *b, const char *s, size_t n)
{
    const char *nl;

    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
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
    nl = n ? memrchr(s, '\n', n) : NULL;
    if (nl != NULL) {
        b->col = (size_t)(s + n - nl - 1);
    } else {
        b->col += n;
    }
}

void es_mbuf_puts(es_mbuf *b, const char *s)
{
    es_mbuf_put(b, s, strlen(s));
}

void es_mhdr_begin(es_mbuf *b, const char *name)
{
    es_mbuf_puts(b, name);
    es_mbuf_put(b, ":", 1);
    b->line_used = 0;
}

void es_mhdr_token(es_mbuf *b, const char *tok, size_t n, int space)
{
    if (space) {
        /* never fold right after the name: "Subject:" alone on a line
           is legal but some readers take the value as empty */
        if (b->line_used && b->col + 1 + n > ES_MIME_LINE_SOFT) {
            es_mbuf_put(b, "\r\n ", 3);
        } else {
            es_mbuf_put(b, " ", 1);
        }
    }
    es_mbuf_put(b, tok, n);
    b->line_used = 1;
}

void es_mhdr_words(es_mbuf *b, const char *s, size_t n)
{
    unsigned char enc[ES_MIME_WORD_MAX + 1];

    while (n > 0) {
        size_t room, max_bytes, k;
        int folded = 0;

        for (;;) {
            /* the separator (a space, or CRLF SP) takes one column */
            room = b->col + 1 < ES_MIME_LINE_SOFT
                       ? ES_MIME_LINE_SOFT - (b->col + 1)
                       : 0;
            if (room > ES_MIME_WORD_MAX) {
                room = ES_MIME_WORD_MAX;
            }
            max_bytes = room > ES_MIME_WORD_OVERHEAD
                            ? (room - ES_MIME_WORD_OVERHEAD) / 4 * 3
                            : 0;
            k = es_utf8_cut(s, n, max_bytes);
            if (k > 0 || folded || !b->line_used) {
                break;
            }
            /* not even one character fits: continue on a new line */
            es_mbuf_put(b, "\r\n", 2);
            folded = 1;
        }
        if (k == 0) {
            /* only after a very long header name: one character, even if
               the line passes 78 columns (998 is the hard limit) */
            k = es_utf8_char_len((const unsigned char *)s, n);
            if (k == 0) {
                k = 1;
            }
        }
        es_mbuf_put(b, " =?UTF-8?B?", 11);
        EVP_EncodeBlock(enc, (const unsigned char *)s, (int)k);
        es_mbuf_puts(b, (const char *)enc);
        es_mbuf_put(b, "?=", 2);
        b->line_used = 1;
        s += k;
        n -= k;
    }
}

void es_mhdr_end(es_mbuf *b)
{
    es_mbuf_put(b, "\r\n", 2);
}

/* 1 when s[0..n) may be written as-is (printable ASCII, no "=?") */
static int plain_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c > 0x7e) {
            return 0;
        }
        if (c == '=' && i + 1 < n && s[i + 1] == '?') {
            return 0; /* a decoder could take it for an encoded word */
        }
    }
    return 1;
}

/* the longest run of non-space characters in s[0..n) */
static size_t longest_word(const char *s, size_t n)
{
    size_t run = 0, best = 0;

    for (size_t i = 0; i < n; i++) {
        run = s[i] == ' ' ? 0 : run + 1;
        if (run > best) {
            best = run;
        }
    }
    return best;
}

/* 1 when a header value is acceptable at all: UTF-8, no CR or LF */
static int value_ok(const char *s, size_t n)
{
    return es_utf8_valid(s, n) && memchr(s, '\r', n) == NULL &&
           memchr(s, '\n', n) == NULL;
}

int es_mhdr_unstructured(es_mbuf *b, const char *name, const char *value)
{
    size_t n = strlen(value);

    if (n > ES_MIME_SUBJECT_MAX || !value_ok(value, n)) {
        return -1;
    }
    es_mhdr_begin(b, name);
    /* edge spaces would be eaten by readers; long words cannot fold */
    if (n > 0 && plain_ascii(value, n) && value[0] != ' ' &&
        value[n - 1] != ' ' &&
        longest_word(value, n) <= ES_MIME_PLAIN_WORD_MAX) {
        const char *p = value, *end = value + n;

        /* one token a word; a run of spaces keeps its empty tokens, so
           unfolding gives back the exact text */
        while (p <= end) {
            const char *sp = memchr(p, ' ', (size_t)(end - p));
            const char *w_end = sp ? sp : end;

            es_mhdr_token(b, p, (size_t)(w_end - p), 1);
            p = w_end + 1;
        }
    } else if (n > 0) {
        es_mhdr_words(b, value, n);
    }
    es_mhdr_end(b);
    return 0;
}

/* RFC 5322 atext: what an atom and a dot-atom are made of */
static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 when s[0..n) is a dot-atom-text: atoms joined by single dots */
static int dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.') {
                return 0;
            }
        } else if (!is_atext((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* 1 when s[0..n) is a host name: labels of letters, digits, inner '-' */
static int host_name(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > 253) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
            if (++label > 63) {
                return 0;
            }
        } else {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

int es_mime_addr_valid(const char *s)
{
    size_t n = strlen(s);
    const char *at = memchr(s, '@', n);
    size_t local;

    if (n > ES_MIME_ADDR_MAX || at == NULL) {
        return 0;
    }
    local = (size_t)(at - s);
    return local <= 64 && dot_atom(s, local) &&
           host_name(at + 1, n - local - 1);
}

int es_mime_dot_atom_id(const char *s)
{
    size_t n = strlen(s);
    const char *at = memchr(s, '@', n);

    return at != NULL && n <= 900 && dot_atom(s, (size_t)(at - s)) &&
           dot_atom(at + 1, (size_t)(s + n - at - 1));
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

int es_mime_mailbox_split(const char *s, char *name, char *addr)
{
    size_t n = strlen(s);
    const char *start = s, *end = s + n, *a, *a_end;
    size_t len;

    if (!value_ok(s, n)) {
        return -1;
    }
    while (start < end && is_wsp(*start)) {
        start++;
    }
    while (end > start && is_wsp(end[-1])) {
        end--;
    }
    name[0] = '\0';
    a = start;
    a_end = end;
    if (end > start && end[-1] == '>') {
        const char *lt = end - 1, *ne;
        size_t o = 0;

        while (lt > start && *lt != '<') {
            lt--;
        }
        if (*lt != '<') {
            return -1;
        }
        a = lt + 1;
        a_end = end - 1;
        ne = lt;
        while (ne > start && is_wsp(ne[-1])) {
            ne--;
        }
        if (ne - start >= 2 && *start == '"' && ne[-1] == '"') {
            /* a quoted-string: backslash escapes, no bare quote inside */
            for (const char *p = start + 1; p < ne - 1; p++) {
                if (*p == '\\') {
                    if (++p >= ne - 1) {
                        return -1;
                    }
                } else if (*p == '"') {
                    return -1;
                }
                if (o >= ES_MIME_NAME_MAX) {
                    return -1;
                }
                name[o++] = *p;
            }
        } else {
            /* unquoted: '<', '>' or a stray '"' would leave it unclear
               where the name ends and the address starts */
            for (const char *p = start; p < ne; p++) {
                if (*p == '<' || *p == '>' || *p == '"' ||
                    o >= ES_MIME_NAME_MAX) {
                    return -1;
                }
                name[o++] = *p;
            }
        }
        name[o] = '\0';
        /* a name cut inside a character by the escapes is refused */
        if (!es_utf8_valid(name, o)) {
            return -1;
        }
    }
    len = (size_t)(a_end - a);
    if (len > ES_MIME_ADDR_MAX) {
        return -1;
    }
    memcpy(addr, a, len);
    addr[len] = '\0';
    return es_mime_addr_valid(addr) ? 0 : -1;
}

/* writes the display name as atoms, a quoted-string or encoded words */
static void put_name(es_mbuf *b, const char *name)
{
    size_t n = strlen(name);
    int atoms = 1;
    char q[ES_MIME_PLAIN_WORD_MAX + 3];
    size_t o = 0;

    if (!plain_ascii(name, n) || name[0] == ' ' || name[n - 1] == ' ') {
        es_mhdr_words(b, name, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (name[i] == ' ' ? name[i + 1] == ' '
                           : !is_atext((unsigned char)name[i])) {
            atoms = 0;
        }
    }
    if (atoms && longest_word(name, n) <= ES_MIME_PLAIN_WORD_MAX) {
        const char *p = name, *end = name + n;

        while (p < end) {
            const char *sp = memchr(p, ' ', (size_t)(end - p));
            const char *w_end = sp ? sp : end;

            es_mhdr_token(b, p, (size_t)(w_end - p), 1);
            p = w_end + 1;
        }
        return;
    }
    /* specials: one quoted-string, when it is short enough to fit */
    q[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (o + 3 > sizeof(q)) {
            es_mhdr_words(b, name, n);
            return;
        }
        if (name[i] == '"' || name[i] == '\\') {
            q[o++] = '\\';
        }
        q[o++] = name[i];
    }
    q[o++] = '"';
    es_mhdr_token(b, q, o, 1);
}

int es_mhdr_mailboxes(es_mbuf *b, const char *name, const char *const *list,
                      size_t n, char *first_addr)
{
    char dname[ES_MIME_NAME_MAX + 1];
    char addr[ES_MIME_ADDR_MAX + 1];
    char tok[ES_MIME_ADDR_MAX + 4];

    es_mhdr_begin(b, name);
    for (size_t i = 0; i < n; i++) {
        size_t o = 0, alen;

        if (list[i] == NULL || es_mime_mailbox_split(list[i], dname, addr)) {
            return -1;
        }
        if (i == 0 && first_addr != NULL) {
            memcpy(first_addr, addr, strlen(addr) + 1);
        }
        alen = strlen(addr);
        if (dname[0] != '\0') {
            put_name(b, dname);
            tok[o++] = '<';
        }
        memcpy(tok + o, addr, alen);
        o += alen;
        if (dname[0] != '\0') {
            tok[o++] = '>';
        }
        if (i + 1 < n) {
            tok[o++] = ',';
        }
        es_mhdr_token(b, tok, o, 1);
    }
    es_mhdr_end(b);
    return 0;
}

int es_mime_addr_spec(const char *mailbox, char *out, size_t out_size)
{
    char dname[ES_MIME_NAME_MAX + 1];
    char addr[ES_MIME_ADDR_MAX + 1];
    size_t n;

    if (mailbox == NULL || es_mime_mailbox_split(mailbox, dname, addr)) {
        return -1;
    }
    n = strlen(addr);
    if (n >= out_size) {
        return -1;
    }
    memcpy(out, addr, n + 1);
    return 0;
}
