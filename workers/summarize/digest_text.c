/*
 * digest_text.c - the daily digest's subject, text and HTML
 * (digest_text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest_text.h"
#include "figures.h"
#include "textbuf.h"

static const char *metric_name(const char *m)
{
    return strcmp(m, "volume") == 0          ? "volume (comments/hour)"
           : strcmp(m, "mean_compound") == 0 ? "mean sentiment"
                                             : "negative share";
}

/* "62%" for shares, "+0.21" for means, "143/h" for volume */
static void metric_value(char *buf, size_t size, const char *m, double v)
{
    if (strcmp(m, "volume") == 0) {
        snprintf(buf, size, "%.0f/h", v);
    } else if (strcmp(m, "mean_compound") == 0) {
        snprintf(buf, size, "%+.2f", v);
    } else {
        snprintf(buf, size, "%.0f%%", v * 100.0);
    }
}

/* "412 comments (+18% on the day before), 19% negative, mean +0.21" */
static void numbers(char *buf, size_t size, const es_digest_summary *s)
{
    char change[48] = "";

    if (s->before > 0) {
        snprintf(change, sizeof(change), " (%+.0f%% on the day before)",
                 100.0 * (double)(s->comments - s->before) / (double)s->before);
    }
    snprintf(buf, size,
             "%lld comment%s%s, %.0f%% positive, %.0f%% negative, "
             "mean %+.2f",
             s->comments, s->comments == 1 ? "" : "s", change,
             es_sum_share(s->positive, s->comments),
             es_sum_share(s->negative, s->comments), s->mean);
}

static void alert_line(char *buf, size_t size, const es_digest_alert *a)
{
    char obs[32], mean[32];

    metric_value(obs, sizeof(obs), a->metric, a->observed);
    metric_value(mean, sizeof(mean), a->metric, a->mean);
    snprintf(buf, size, "%.5s UTC, %s: %s %s (usual %s), %lld comments",
             strlen(a->fired) >= 16 ? a->fired + 11 : a->fired, a->topic,
             metric_name(a->metric), obs, mean, a->volume);
}

static void text_part(const es_digest_input *in, es_tb *b)
{
    char line[512];

    es_tb_printf(b, "EchoStream daily digest, %s\n", in->day);
    for (size_t i = 0; i < in->nsummaries; i++) {
        const es_digest_summary *s = &in->summaries[i];
        numbers(line, sizeof(line), s);
        es_tb_printf(b, "\n\n== %s ==\n%s.\n\n%s\n", s->title, line, s->text);
    }
    if (in->nsummaries == 0) {
        es_tb_printf(b, "\nNo summaries were written for this day.\n");
    }
    es_tb_printf(b, "\n\n== Alerts ==\n");
    if (in->nalerts == 0) {
        es_tb_printf(b, "No alert fired.\n");
    }
    for (size_t i = 0; i < in->nalerts; i++) {
        alert_line(line, sizeof(line), &in->alerts[i]);
        es_tb_printf(b, "- %s\n", line);
    }
    es_tb_printf(b, "\nOpen the dashboard: %s\n", in->base_url);
    es_tb_printf(b, "\nYou receive this e-mail because you turned on the "
                    "daily digest in EchoStream.\n");
    if (in->unsubscribe_url) {
        es_tb_printf(b, "Unsubscribe with one click: %s\n",
                     in->unsubscribe_url);
    }
}

static void html_part(const es_digest_input *in, es_tb *b)
{
    char line[512];

    es_tb_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                    "<title>EchoStream daily digest</title></head>\n"
                    "<body style=\"font-family:sans-serif;max-width:40em\">\n"
                    "<h1 style=\"font-size:1.3em\">EchoStream daily digest, ");
    es_tb_put_escaped(b, in->day, "<br>\n");
    es_tb_printf(b, "</h1>\n");
    for (size_t i = 0; i < in->nsummaries; i++) {
        const es_digest_summary *s = &in->summaries[i];
        numbers(line, sizeof(line), s);
        es_tb_printf(b, "<h2 style=\"font-size:1.1em\">");
        es_tb_put_escaped(b, s->title, "<br>\n");
        es_tb_printf(b, "</h2>\n<p><strong>");
        es_tb_put_escaped(b, line, "<br>\n");
        es_tb_printf(b, "</strong></p>\n<p>");
        es_tb_put_escaped(b, s->text, "<br>\n");
        es_tb_printf(b, "</p>\n");
    }
    if (in->nsummaries == 0) {
        es_tb_printf(b, "<p>No summaries were written for this day.</p>\n");
    }
    es_tb_printf(b, "<h2 style=\"font-size:1.1em\">Alerts</h2>\n");
    if (in->nalerts == 0) {
        es_tb_printf(b, "<p>No alert fired.</p>\n");
    } else {
        es_tb_printf(b, "<ul>\n");
        for (size_t i = 0; i < in->nalerts; i++) {
            alert_line(line, sizeof(line), &in->alerts[i]);
            es_tb_printf(b, "<li>");
            es_tb_put_escaped(b, line, "<br>\n");
            es_tb_printf(b, "</li>\n");
        }
        es_tb_printf(b, "</ul>\n");
    }
    es_tb_printf(b, "<p><a href=\"");
    es_tb_put_escaped(b, in->base_url, "<br>\n");
    es_tb_printf(b, "\">Open the dashboard</a></p>\n<p style=\"color:#555;"
                    "font-size:0.9em\">You receive this e-mail because you "
                    "turned on the daily digest in EchoStream.");
    if (in->unsubscribe_url) {
        es_tb_printf(b, " <a href=\"");
        es_tb_put_escaped(b, in->unsubscribe_url, "<br>\n");
        es_tb_printf(b, "\">Unsubscribe</a>");
    }
    es_tb_printf(b, "</p>\n</body></html>\n");
}

int es_digest_compose(const es_digest_input *in, es_digest_mail *m)
{
    es_tb b = {0};
    const es_digest_summary *all = in->nsummaries ? &in->summaries[0] : NULL;

    memset(m, 0, sizeof(*m));
    es_tb_printf(&b, "EchoStream digest, %s", in->day);
    if (all) {
        es_tb_printf(&b, ": %lld comment%s, %.0f%% negative", all->comments,
                     all->comments == 1 ? "" : "s",
                     es_sum_share(all->negative, all->comments));
    }
    if (in->nalerts) {
        es_tb_printf(&b, ", %zu alert%s", in->nalerts,
                     in->nalerts == 1 ? "" : "s");
    }
    m->subject = es_tb_take(&b);
    text_part(in, &b);
    m->text = es_tb_take(&b);
    html_part(in, &b);
    m->html = es_tb_take(&b);
    if (m->subject == NULL || m->text == NULL || m->html == NULL) {
        es_digest_mail_free(m);
        return -1;
    }
    return 0;
}

void es_digest_mail_free(es_digest_mail *m)
{
    free(m->subject);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof(*m));
}
