/*
 * mime_fuzz.c - the e-mail message builder (es_mime_build) over hostile
 * parts: display names, addresses, subjects and bodies as they could
 * come from a rule, a member record or comment text.
 *
 * The input is split at NUL bytes into from, two recipients, subject,
 * text, html, message id and unsubscribe URL (an empty html, id or URL
 * means none). Invariants: a header input with CR or LF is refused; a
 * built message is 7-bit, has CRLF line ends only and no line over 998
 * octets (78 in the Subject, whose words are all foldable or encoded);
 * no header line appears that the builder does not
 * write (no injection), and the Subject unfolds and decodes back to the
 * exact input.
 */
#include <openssl/evp.h>

#include "es_mime.h"
#include "es_utf8.h"
#include "fuzz.h"

#define NFIELDS 8

static const char *const known[] = {
    "Date:",
    "From:",
    "To:",
    "Subject:",
    "Message-ID:",
    "List-Unsubscribe:",
    "List-Unsubscribe-Post:",
    "Auto-Submitted:",
    "MIME-Version:",
    "Content-Type:",
    "Content-Transfer-Encoding:",
};

static int known_header(const char *line)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strncmp(line, known[i], strlen(known[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

/* the unfolded Subject value, its B encoded words decoded; malloc'd */
static char *decoded_subject(const char *msg)
{
    const char *p = strstr(msg, "\r\nSubject:");
    size_t n, o = 0, ws = 0;
    const char *ws_at = NULL;
    char *v, *out;
    int prev_word = 0;

    ES_FUZZ_CHECK(p != NULL);
    p += 10;
    v = malloc(strlen(p) + 1);
    out = malloc(strlen(p) + 1);
    if (v == NULL || out == NULL) {
        abort();
    }
    n = 0;
    while (!(p[0] == '\r' && p[1] == '\n' && p[2] != ' ')) {
        if (p[0] == '\r') {
            p += 2; /* CRLF SP: the SP stays */
            continue;
        }
        v[n++] = *p++;
    }
    v[n] = '\0';
    for (size_t i = n > 0 && v[0] == ' ' ? 1 : 0; i < n;) {
        if (strncmp(v + i, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(v + i + 10, "?=");
            size_t blen;
            int r;

            ES_FUZZ_CHECK(end != NULL);
            ES_FUZZ_CHECK(end + 2 - (v + i) <= 75);
            blen = (size_t)(end - (v + i + 10));
            if (!prev_word && ws) {
                memcpy(out + o, ws_at, ws);
                o += ws;
            }
            r = EVP_DecodeBlock((unsigned char *)out + o,
                                (const unsigned char *)v + i + 10, (int)blen);
            ES_FUZZ_CHECK(r >= 0);
            while (blen > 0 && v[i + 10 + blen - 1] == '=') {
                blen--;
                r--;
            }
            /* each word holds whole characters */
            ES_FUZZ_CHECK(es_utf8_valid(out + o, (size_t)r));
            o += (size_t)r;
            ws = 0;
            prev_word = 1;
            i = (size_t)(end + 2 - v);
        } else if (v[i] == ' ') {
            if (ws == 0) {
                ws_at = v + i;
            }
            ws++;
            i++;
        } else {
            if (ws) {
                memcpy(out + o, ws_at, ws);
                o += ws;
            }
            ws = 0;
            prev_word = 0;
            out[o++] = v[i++];
        }
    }
    if (ws) {
        memcpy(out + o, ws_at, ws);
        o += ws;
    }
    out[o] = '\0';
    free(v);
    return out;
}

static void check_message(const char *msg, size_t len, const char *subject)
{
    size_t col = 0, start = 0;
    int in_header = 1, in_subject = 0;
    char *dec;

    ES_FUZZ_CHECK(strlen(msg) == len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)msg[i];

        ES_FUZZ_CHECK(c < 0x80 && c != '\n');
        if (c != '\r') {
            col++;
            continue;
        }
        ES_FUZZ_CHECK(i + 1 < len && msg[i + 1] == '\n');
        ES_FUZZ_CHECK(col <= 998);
        if (in_header) {
            if (col == 0) {
                in_header = 0;
            } else if (msg[start] != ' ') {
                ES_FUZZ_CHECK(known_header(msg + start));
                in_subject = strncmp(msg + start, "Subject:", 8) == 0;
            }
            /* other headers may hold an unfoldable address or URL */
            if (in_subject) {
                ES_FUZZ_CHECK(col <= 78);
            }
        }
        i++;
        col = 0;
        start = i + 1;
    }
    ES_FUZZ_CHECK(col == 0);
    dec = decoded_subject(msg);
    ES_FUZZ_CHECK(strcmp(dec, subject) == 0);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *f[NFIELDS] = {0};
    const char *to[2];
    es_mime_message m = {0};
    char *s, *msg, *p;
    size_t len = 0;
    int crlf = 0;

    s = es_fuzz_copy(data, size, 1);
    p = s;
    for (int i = 0; i < NFIELDS; i++) {
        f[i] = p;
        p += strlen(p);
        if (p < s + size) {
            p++;
        }
    }
    for (int i = 0; i < 4; i++) {
        crlf |= strpbrk(f[i], "\r\n") != NULL;
    }
    to[0] = f[1];
    to[1] = f[2];
    m.from = f[0];
    m.to = to;
    m.nto = f[2][0] ? 2 : 1;
    m.subject = f[3];
    m.text = f[4];
    m.html = f[5][0] ? f[5] : NULL;
    m.message_id = f[6][0] ? f[6] : NULL;
    m.list_unsubscribe_url = f[7][0] ? f[7] : NULL;
    m.date_s = 1700000000;

    msg = es_mime_build(&m, &len);
    if (msg != NULL) {
        ES_FUZZ_CHECK(!crlf);
        check_message(msg, len, m.subject);
        free(msg);
    }
    free(s);
    return 0;
}
