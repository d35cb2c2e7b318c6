/*
 * message.c - the e-mail and webhook bodies of an alert (see message.h).
 *
 * Everything is appended to growing buffers with printf-style calls; a
 * buffer that ran out of memory stays failed and the whole message is
 * refused at the end, so no partial mail is ever sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_webhook.h"
#include "event.h"
#include "message.h"

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    {
        char *big = malloc((size_t)n + 1);
        if (big == NULL) {
            b->oom = 1;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb_add(b, big, (size_t)n);
        free(big);
    }
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* s escaped for HTML text and attribute values */
static void sb_html(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sb_str(b, "&amp;");
            break;
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        case '\'':
            sb_str(b, "&#39;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

/* s with every control character as a space: safe in one header line */
static void sb_line(sbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        sb_add(b, c < 0x20 || c == 0x7f ? " " : s, 1);
    }
}

static char *sb_take(sbuf *b)
{
    if (b->oom || b->s == NULL) {
        free(b->s);
        return NULL;
    }
    return b->s;
}

static const char *str_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double num_of(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* The figure of the metric: "62%", "240 comments/hour", "-0.42". */
static void figure(sbuf *b, const char *metric, double v)
{
    if (strcmp(metric, "volume") == 0) {
        sb_printf(b, "%.0f comments/hour", v);
    } else if (strcmp(metric, "mean_compound") == 0) {
        sb_printf(b, "%.2f", v);
    } else {
        sb_printf(b, "%.0f%%", v * 100);
    }
}

static void headline(sbuf *b, const json_t *ev, const char *name)
{
    const char *metric = str_of(ev, "metric");
    double mean = num_of(json_object_get(ev, "baseline"), "mean");
    double obs = num_of(ev, "observed");

    if (strcmp(metric, "volume") == 0) {
        sb_str(b, "Volume spike on ");
        sb_line(b, name);
        sb_printf(b, ": %.0f comments/hour (usual %.0f)", obs, mean);
    } else if (strcmp(metric, "mean_compound") == 0) {
        sb_str(b, "Sentiment drop on ");
        sb_line(b, name);
        sb_printf(b, ": mean compound %.2f (usual %.2f)", obs, mean);
    } else {
        sb_str(b, "Negative spike on ");
        sb_line(b, name);
        sb_printf(b, ": %.0f%% negative (usual %.0f%%)", obs * 100, mean * 100);
    }
}

char *es_alert_headline(const json_t *event, const char *topic_name)
{
    sbuf b = {0};

    headline(&b, event, topic_name);
    return sb_take(&b);
}

/* The figures paragraph, plain text. */
static void figures_text(sbuf *b, const json_t *ev)
{
    const char *metric = str_of(ev, "metric");
    const json_t *base = json_object_get(ev, "baseline");
    const json_t *win = json_object_get(ev, "window");

    sb_str(b, "Observed: ");
    figure(b, metric, num_of(ev, "observed"));
    sb_printf(
        b, " over the last %lld minutes (%lld comments)\n",
        (long long)json_integer_value(json_object_get(ev, "window_minutes")),
        (long long)json_integer_value(json_object_get(ev, "volume")));
    sb_str(b, "Usual: ");
    figure(b, metric, num_of(base, "mean"));
    sb_str(b, " (standard deviation ");
    figure(b, metric, num_of(base, "stddev"));
    sb_printf(b, ", from %lld hours of history)\n",
              (long long)json_integer_value(json_object_get(base, "hours")));
    sb_str(b, "Alert threshold: ");
    figure(b, metric, num_of(ev, "threshold"));
    sb_printf(b, " (sensitivity %g)\n", num_of(ev, "sensitivity"));
    sb_printf(b, "Window: %s to %s (UTC)\n", str_of(win, "from"),
              str_of(win, "to"));
}

static void figures_html(sbuf *b, const json_t *ev)
{
    sbuf t = {0};
    char *text;

    /* the same lines as the text, one table row each */
    figures_text(&t, ev);
    text = sb_take(&t);
    if (text == NULL) {
        b->oom = 1;
        return;
    }
    sb_str(b, "<table cellpadding=\"4\">\n");
    for (char *line = text, *nl; *line; line = nl + 1) {
        char *colon;
        nl = strchr(line, '\n');
        if (nl == NULL) {
            break;
        }
        *nl = '\0';
        colon = strstr(line, ": ");
        if (colon == NULL) {
            continue;
        }
        *colon = '\0';
        sb_str(b, "<tr><th align=\"left\">");
        sb_html(b, line);
        sb_str(b, "</th><td>");
        sb_html(b, colon + 2);
        sb_str(b, "</td></tr>\n");
    }
    sb_str(b, "</table>\n");
    free(text);
}

static void sample_head(sbuf *b, const json_t *s, int html)
{
    const char *parts[2] = {str_of(s, "author"), str_of(s, "subreddit")};

    if (html) {
        sb_str(b, "u/");
        sb_html(b, parts[0]);
        sb_str(b, " in r/");
        sb_html(b, parts[1]);
        sb_str(b, " (");
        sb_html(b, str_of(s, "label"));
    } else {
        sb_printf(b, "u/%s in r/%s (%s", parts[0], parts[1],
                  str_of(s, "label"));
    }
    sb_printf(b, ", compound %.2f)", num_of(s, "compound"));
}

static void samples_text(sbuf *b, const json_t *samples)
{
    size_t i;
    json_t *s;

    if (json_array_size(samples) == 0) {
        return;
    }
    sb_str(b, "\nSample comments:\n");
    json_array_foreach(samples, i, s)
    {
        sb_str(b, "\n- ");
        sample_head(b, s, 0);
        sb_str(b, ":\n  \"");
        sb_str(b, str_of(s, "body"));
        sb_str(b, "\"\n");
        if (str_of(s, "link")[0]) {
            sb_printf(b, "  %s\n", str_of(s, "link"));
        }
    }
}

static void samples_html(sbuf *b, const json_t *samples)
{
    size_t i;
    json_t *s;

    if (json_array_size(samples) == 0) {
        return;
    }
    sb_str(b, "<h3>Sample comments</h3>\n<ul>\n");
    json_array_foreach(samples, i, s)
    {
        sb_str(b, "<li><p>");
        sample_head(b, s, 1);
        sb_str(b, "</p><blockquote>");
        sb_html(b, str_of(s, "body"));
        sb_str(b, "</blockquote>");
        if (str_of(s, "link")[0]) {
            sb_str(b, "<p><a href=\"");
            sb_html(b, str_of(s, "link"));
            sb_str(b, "\">Open on Reddit</a></p>");
        }
        sb_str(b, "</li>\n");
    }
    sb_str(b, "</ul>\n");
}

int es_alert_message_build(const json_t *event, const char *topic_name,
                           const char *base_url, const char *unsub_url,
                           es_alert_message *out)
{
    sbuf subj = {0}, text = {0}, html = {0}, head = {0};
    const json_t *samples = json_object_get(event, "samples");
    char *h;

    memset(out, 0, sizeof(*out));
    headline(&head, event, topic_name);
    h = sb_take(&head);
    if (h == NULL) {
        return -1;
    }

    sb_str(&subj, "[EchoStream] ");
    sb_str(&subj, h);

    sb_printf(&text, "%s\n\n", h);
    figures_text(&text, event);
    samples_text(&text, samples);
    sb_printf(&text, "\nOpen the dashboard: %s\n", base_url);
    sb_printf(&text,
              "\nAlert rule %s on topic %s, event %s.\n"
              "You receive this as an address of the rule, or as a member "
              "who asked for alert e-mails.\n",
              str_of(event, "rule"), str_of(event, "topic"),
              str_of(event, "id"));
    if (unsub_url) {
        sb_printf(&text, "Stop alert e-mails: %s\n", unsub_url);
    }

    sb_str(&html, "<!DOCTYPE html>\n<html><body style=\"font-family:"
                  "sans-serif\">\n<h2>");
    sb_html(&html, h);
    sb_str(&html, "</h2>\n");
    figures_html(&html, event);
    samples_html(&html, samples);
    sb_str(&html, "<p><a href=\"");
    sb_html(&html, base_url);
    sb_str(&html, "\">Open the dashboard</a></p>\n<p style=\"color:#666;"
                  "font-size:small\">Alert rule ");
    sb_html(&html, str_of(event, "rule"));
    sb_str(&html, " on topic ");
    sb_html(&html, str_of(event, "topic"));
    sb_str(&html, ", event ");
    sb_html(&html, str_of(event, "id"));
    sb_str(&html, ". You receive this as an address of the rule, or as a "
                  "member who asked for alert e-mails.");
    if (unsub_url) {
        sb_str(&html, " <a href=\"");
        sb_html(&html, unsub_url);
        sb_str(&html, "\">Stop alert e-mails</a>");
    }
    sb_str(&html, "</p>\n</body></html>\n");

    free(h);
    out->subject = sb_take(&subj);
    out->text = sb_take(&text);
    out->html = sb_take(&html);
    if (out->subject == NULL || out->text == NULL || out->html == NULL) {
        es_alert_message_free(out);
        return -1;
    }
    return 0;
}

void es_alert_message_free(es_alert_message *m)
{
    free(m->subject);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof(*m));
}

char *es_alert_webhook_body(const json_t *event, const char *topic_name,
                            const char *base_url, const char *delivery_id,
                            size_t *len)
{
    sbuf t = {0}, f = {0};
    const json_t *samples = json_object_get(event, "samples");
    const char *lines[2 + ES_ALERT_SAMPLES];
    char *title, *figs, *sample_text[ES_ALERT_SAMPLES] = {0};
    es_webhook_card card;
    size_t nl = 0, i;
    json_t *data, *s;
    char *body = NULL;

    headline(&t, event, topic_name);
    title = sb_take(&t);
    figures_text(&f, event);
    figs = sb_take(&f);
    /* the event as the history holds it, and the delivery id a receiver
       can drop a repeat by */
    data = json_deep_copy(event);
    if (title == NULL || figs == NULL || data == NULL ||
        json_object_set_new(data, "delivery", json_string(delivery_id)) != 0) {
        goto cleanup;
    }
    lines[nl++] = figs;
    json_array_foreach(samples, i, s)
    {
        sbuf b = {0};
        if (i >= ES_ALERT_SAMPLES) {
            break;
        }
        sample_head(&b, s, 0);
        sb_printf(&b, ": \"%s\" %s", str_of(s, "body"), str_of(s, "link"));
        sample_text[i] = sb_take(&b);
        if (sample_text[i] == NULL) {
            goto cleanup;
        }
        lines[nl++] = sample_text[i];
    }
    memset(&card, 0, sizeof(card));
    card.title = title;
    card.lines = lines;
    card.nlines = nl;
    card.link_url = base_url;
    card.link_text = "Open the dashboard";
    card.data = data;
    body = es_webhook_slack_body(&card, len);

cleanup:
    for (i = 0; i < ES_ALERT_SAMPLES; i++) {
        free(sample_text[i]);
    }
    free(title);
    free(figs);
    json_decref(data);
    return body;
}
