/*
 * mail_send.c - test driver for the alert worker's delivery pieces: builds
 * a message with es_mime_build and sends it with es_smtp_send, or posts a
 * webhook with es_webhook_post, exactly as the worker will, and prints
 * the outcome as one JSON line, so tests/integration/alert/ can put real
 * servers (smtp-server, node:https) on the other end.
 *
 *   mail_send mime    [message options]   the built message on stdout
 *   mail_send smtp    [message options] [smtp options]
 *   mail_send webhook [webhook options]
 *   mail_send slack   [card options]      the Slack body on stdout
 *
 * message: --from S --to S (repeat) --subject S --text S --html S
 *          --message-id S --unsub URL --date UNIX
 * smtp:    --url U --user U --require-tls 0|1 --ca-file F --timeout-ms N
 *          (password in $ES_SMTP_PASSWORD: never on a command line)
 * webhook: --url U --insecure --timeout-ms N --max-response N --ca-file F
 *          --now UNIX --body JSON, or the card options for a Slack body
 *          (secret in $ES_WEBHOOK_SECRET)
 * card:    --title S --line S (repeat) --link URL --link-text S
 *
 * smtp prints {"outcome","error","bytes"}; webhook prints {"outcome",
 * "status","error","body_len"}; a message the builder refuses prints
 * {"refused":true} and exits 3; a usage error exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_mime.h"
#include "es_smtp.h"
#include "es_webhook.h"

#define MAX_LIST 64

typedef struct {
    es_mime_message m;
    const char *to[MAX_LIST];
    const char *lines[MAX_LIST];
    size_t nlines;
    es_smtp_config smtp;
    es_webhook_config hook;
    const char *url;
    const char *body;
    const char *title;
    const char *link;
    const char *link_text;
    long long now_s;
} opts;

static int usage(const char *why)
{
    fprintf(stderr,
            "mail_send: %s (see the header of tests/drivers/"
            "mail_send.c)\n",
            why);
    return 2;
}

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    o->m.to = o->to;
    o->m.subject = "";
    o->m.text = "";
    o->smtp.require_tls = 1;
    o->now_s = 1700000000;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(k, "--insecure") == 0) {
            o->hook.allow_insecure = 1;
            continue;
        }
        if (v == NULL) {
            return -1;
        }
        i++;
        if (strcmp(k, "--from") == 0) {
            o->m.from = v;
        } else if (strcmp(k, "--to") == 0 && o->m.nto < MAX_LIST) {
            o->to[o->m.nto++] = v;
        } else if (strcmp(k, "--subject") == 0) {
            o->m.subject = v;
        } else if (strcmp(k, "--text") == 0) {
            o->m.text = v;
        } else if (strcmp(k, "--html") == 0) {
            o->m.html = v;
        } else if (strcmp(k, "--message-id") == 0) {
            o->m.message_id = v;
        } else if (strcmp(k, "--unsub") == 0) {
            o->m.list_unsubscribe_url = v;
        } else if (strcmp(k, "--date") == 0) {
            o->m.date_s = atoll(v);
        } else if (strcmp(k, "--url") == 0) {
            o->url = v;
        } else if (strcmp(k, "--user") == 0) {
            o->smtp.user = v;
        } else if (strcmp(k, "--require-tls") == 0) {
            o->smtp.require_tls = atoi(v);
        } else if (strcmp(k, "--ca-file") == 0) {
            o->smtp.ca_file = v;
            o->hook.ca_file = v;
        } else if (strcmp(k, "--timeout-ms") == 0) {
            o->smtp.timeout_ms = atol(v);
            o->hook.timeout_ms = atol(v);
        } else if (strcmp(k, "--max-response") == 0) {
            o->hook.max_response = (size_t)atoll(v);
        } else if (strcmp(k, "--now") == 0) {
            o->now_s = atoll(v);
        } else if (strcmp(k, "--body") == 0) {
            o->body = v;
        } else if (strcmp(k, "--title") == 0) {
            o->title = v;
        } else if (strcmp(k, "--line") == 0 && o->nlines < MAX_LIST) {
            o->lines[o->nlines++] = v;
        } else if (strcmp(k, "--link") == 0) {
            o->link = v;
        } else if (strcmp(k, "--link-text") == 0) {
            o->link_text = v;
        } else {
            return -1;
        }
    }
    return 0;
}

/* prints obj as one line and drops it */
static void print_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);

    if (s != NULL) {
        printf("%s\n", s);
        free(s);
    }
    json_decref(obj);
}

static char *slack_body(const opts *o)
{
    es_webhook_card card = {o->title, o->lines,     o->nlines,
                            o->link,  o->link_text, NULL};
    json_t *data = json_pack("{s:s}", "driver", "mail_send");
    char *body;

    card.data = data;
    body = es_webhook_slack_body(&card, NULL);
    json_decref(data);
    return body;
}

static int run_webhook(const opts *o)
{
    const char *secret = getenv("ES_WEBHOOK_SECRET");
    char *built = NULL, err[256] = "";
    const char *body = o->body;
    long status = 0;
    int rc;

    if (body == NULL && o->title != NULL) {
        built = slack_body(o);
        if (built == NULL) {
            print_json(json_pack("{s:b}", "refused", 1));
            return 3;
        }
        body = built;
    }
    if (body == NULL) {
        body = "{}";
    }
    rc = es_webhook_post(&o->hook, o->url, secret ? secret : "", body,
                         strlen(body), o->now_s, &status, err, sizeof(err));
    print_json(json_pack("{s:i, s:I, s:s, s:I}", "outcome", rc, "status",
                         (json_int_t)status, "error", err, "body_len",
                         (json_int_t)strlen(body)));
    free(built);
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    char *msg;
    size_t len = 0;
    const char *cmd;

    if (argc < 2 || parse(argc, argv, &o) != 0) {
        return usage("bad arguments");
    }
    cmd = argv[1];
    if (strcmp(cmd, "webhook") == 0) {
        return run_webhook(&o);
    }
    if (strcmp(cmd, "slack") == 0) {
        char *body = slack_body(&o);

        if (body == NULL) {
            print_json(json_pack("{s:b}", "refused", 1));
            return 3;
        }
        printf("%s\n", body);
        free(body);
        return 0;
    }
    if (strcmp(cmd, "mime") != 0 && strcmp(cmd, "smtp") != 0) {
        return usage("unknown command");
    }
    msg = es_mime_build(&o.m, &len);
    if (msg == NULL) {
        print_json(json_pack("{s:b}", "refused", 1));
        return 3;
    }
    if (strcmp(cmd, "mime") == 0) {
        fwrite(msg, 1, len, stdout);
    } else {
        char err[256] = "";
        int rc;

        o.smtp.url = o.url;
        o.smtp.password = getenv("ES_SMTP_PASSWORD");
        rc = es_smtp_send(&o.smtp, o.m.from, o.m.to, o.m.nto, msg, len, err,
                          sizeof(err));
        print_json(json_pack("{s:i, s:s, s:I}", "outcome", rc, "error", err,
                             "bytes", (json_int_t)len));
    }
    free(msg);
    return 0;
}
