/*
 * es_webhook_slack.c - the Slack-compatible body of a webhook delivery
 * (es_webhook_slack_body in es_webhook.h).
 *
 * Lines carry text from Reddit comments, i.e. anyone's text: Slack reads
 * "<!channel>", "<@U123>" and "<https://x|label>" in mrkdwn as a mention
 * or a link, so &, < and > are escaped as Slack documents (&amp; &lt;
 * &gt;) in every mrkdwn field; the header is plain_text, which Slack does
 * not parse. Limits are Slack's (header 150 characters, a section 3000,
 * 50 blocks): text past them is cut at a character boundary with an
 * ellipsis rather than refused, since a long comment must not stop an
 * alert. Built with jansson, so the JSON is well-formed whatever the text.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "es_utf8.h"
#include "es_webhook.h"

#define SLACK_HEADER_MAX  150  /* characters of a header block */
#define SLACK_SECTION_MAX 3000 /* characters of a section's text */
#define SLACK_BUTTON_MAX  75   /* characters of a button label */
#define SLACK_URL_MAX     3000 /* characters of a button URL */
#define SLACK_SECTIONS    45   /* of the 50 blocks a message may have */
#define SLACK_TEXT_MAX    3000 /* the fallback "text" is kept short too */

/* a growing string */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
    size_t chars; /* characters, as Slack counts them */
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n, size_t chars)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
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
    b->chars += chars;
}

/*
 * Appends s as valid UTF-8 (invalid bytes become U+FFFD), escaped for
 * mrkdwn when escape is set, with line breaks turned to spaces when
 * one_line is set, stopping before max characters in total; returns 0 when
 * everything fit, 1 when it was cut.
 */
static int sb_text(sbuf *b, const char *s, int escape, int one_line, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;

    while (i < n) {
        size_t k = es_utf8_char_len(p + i, n - i);
        const char *rep = NULL;
        size_t rlen;

        if (b->chars + 1 > max) {
            return 1;
        }
        if (k == 0) {
            rep = "\xef\xbf\xbd"; /* U+FFFD */
            k = 1;
        } else if (escape && p[i] == '&') {
            rep = "&amp;";
        } else if (escape && p[i] == '<') {
            rep = "&lt;";
        } else if (escape && p[i] == '>') {
            rep = "&gt;";
        } else if (one_line && (p[i] == '\n' || p[i] == '\r')) {
            rep = " ";
        }
        rlen = rep ? strlen(rep) : k;
        /* an entity counts with its full length, U+FFFD as one */
        if (b->chars + (k == 1 && rep != NULL && rep[0] == '&' ? rlen : 1) >
            max) {
            return 1;
        }
        sb_put(b, rep ? rep : s + i, rlen,
               k == 1 && rep != NULL && rep[0] == '&' ? rlen : 1);
        i += k;
    }
    return 0;
}

/* s cut to max characters, with "…" when cut; malloc'd or NULL */
static char *cut_text(const char *s, int escape, int one_line, size_t max)
{
    sbuf b = {0};

    sb_put(&b, "", 0, 0);
    if (sb_text(&b, s, escape, one_line, max - 1)) {
        sb_put(&b, "\xe2\x80\xa6", 3, 1);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static int url_ok(const char *u)
{
    size_t n = strlen(u);

    if (n > SLACK_URL_MAX || !(strncasecmp(u, "https://", 8) == 0 ||
                               strncasecmp(u, "http://", 7) == 0)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* {"type": type, "text": text} (steals nothing; text is copied) */
static json_t *text_obj(const char *type, const char *text)
{
    return json_pack("{s:s, s:s}", "type", type, "text", text);
}

/* appends section blocks holding the lines, 3000 characters at most each */
static int add_sections(json_t *blocks, const es_webhook_card *card)
{
    sbuf sec = {0};
    int sections = 0, rc = 0;

    for (size_t i = 0; i <= card->nlines && rc == 0; i++) {
        char *line = NULL;

        if (i < card->nlines) {
            if (card->lines[i] == NULL) {
                continue;
            }
            line = cut_text(card->lines[i], 1, 0, SLACK_SECTION_MAX);
            if (line == NULL) {
                rc = -1;
                break;
            }
        }
        /* flush the section when this line would not fit, or at the end */
        if (sec.len > 0 && (line == NULL ||
                            sec.chars + 1 + strlen(line) > SLACK_SECTION_MAX)) {
            if (sections < SLACK_SECTIONS &&
                json_array_append_new(
                    blocks, json_pack("{s:s, s:o}", "type", "section", "text",
                                      text_obj("mrkdwn", sec.p))) != 0) {
                rc = -1;
            }
            sections++;
            sec.len = 0;
            sec.chars = 0;
        }
        if (line != NULL) {
            if (sec.len > 0) {
                sb_put(&sec, "\n", 1, 1);
            }
            /* chars counted in bytes here: a safe over-estimate */
            sb_put(&sec, line, strlen(line), strlen(line));
            free(line);
        }
        if (sec.oom) {
            rc = -1;
        }
    }
    free(sec.p);
    return rc;
}

char *es_webhook_slack_body(const es_webhook_card *card, size_t *len)
{
    json_t *root = NULL, *blocks = NULL;
    char *title = NULL, *label = NULL, *out = NULL;
    sbuf text = {0};

    if (card == NULL || card->title == NULL ||
        (card->link_url != NULL && !url_ok(card->link_url))) {
        return NULL;
    }
    title = cut_text(card->title, 0, 1, SLACK_HEADER_MAX);
    label = cut_text(card->link_text ? card->link_text : "Open in EchoStream",
                     0, 1, SLACK_BUTTON_MAX);
    /* the fallback text: title and lines, escaped, short */
    sb_put(&text, "", 0, 0);
    if (!sb_text(&text, card->title, 1, 1, SLACK_TEXT_MAX)) {
        for (size_t i = 0; i < card->nlines; i++) {
            if (card->lines[i] == NULL) {
                continue;
            }
            sb_put(&text, "\n", 1, 1);
            if (sb_text(&text, card->lines[i], 1, 0, SLACK_TEXT_MAX)) {
                break;
            }
        }
    }
    blocks = json_array();
    if (title == NULL || label == NULL || text.oom || blocks == NULL) {
        goto done;
    }
    if (json_array_append_new(blocks,
                              json_pack("{s:s, s:{s:s, s:s, s:b}}", "type",
                                        "header", "text", "type", "plain_text",
                                        "text", title, "emoji", 1)) != 0 ||
        add_sections(blocks, card) != 0) {
        goto done;
    }
    if (card->link_url != NULL &&
        json_array_append_new(
            blocks, json_pack("{s:s, s:[{s:s, s:{s:s, s:s}, s:s}]}", "type",
                              "actions", "elements", "type", "button", "text",
                              "type", "plain_text", "text", label, "url",
                              card->link_url)) != 0) {
        goto done;
    }
    root = json_pack("{s:s, s:O}", "text", text.p, "blocks", blocks);
    if (root == NULL) {
        goto done;
    }
    if (card->data != NULL &&
        json_object_set(root, "echostream", card->data) != 0) {
        goto done;
    }
    out = json_dumps(root, JSON_COMPACT);
    if (out != NULL && len != NULL) {
        *len = strlen(out);
    }

done:
    json_decref(root);
    json_decref(blocks);
    free(title);
    free(label);
    free(text.p);
    return out;
}
