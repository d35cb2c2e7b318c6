/*
 * es_webhook.h - alert and digest deliveries to a tenant's webhook URL.
 *
 * The URL is the tenant's, so the request must not become a way into the
 * machine's own network (SSRF): the host is resolved here, every address
 * it resolves to is checked against the ranges no public receiver lives
 * in (loopback, private, link-local with the cloud metadata service,
 * CGNAT, multicast, reserved, and IPv6 forms that embed such an IPv4
 * address), and libcurl is then pinned to exactly the checked addresses,
 * re-checked as each socket is opened, so a second DNS answer
 * (rebinding) cannot change the destination. Redirects are never
 * followed; time and response size are bounded. Each request carries
 * X-EchoStream-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed with the tenant's secret>, so the receiver can tell
 * it came from us and is recent. allow_insecure (development only) lifts
 * the address rules and allows http://.
 */
#ifndef ES_WEBHOOK_H
#define ES_WEBHOOK_H

#include <stddef.h>

#include <jansson.h>

/* the longest URL accepted (as the API's rule check) */
#define ES_WEBHOOK_URL_MAX 2048

typedef struct {
    int allow_insecure;  /* http:// and any destination, development only */
    long timeout_ms;     /* whole request; <= 0 = 10 s */
    size_t max_response; /* response body bytes read at most; 0 = 64 KiB */
    const char *ca_file; /* PEM CA bundle for a private CA, or NULL/"" */
} es_webhook_config;

/*
 * Checks the URL's form only (no DNS): https:// (or http:// with
 * allow_insecure), printable ASCII of at most ES_WEBHOOK_URL_MAX bytes, a
 * host, no user-info, no IPv6 zone. 0 when acceptable, -1 with a reason
 * in err (may be NULL) when not.
 */
int es_webhook_check_url(const char *url, int allow_insecure, char *err,
                         size_t err_size);

/*
 * POSTs body[0..len) as application/json to url, signed with secret (the
 * tenant's webhook secret as text, used as the HMAC key byte for byte)
 * at time now_s. *status (may be NULL) gets the HTTP status, 0 when none
 * came. Returns 0 when delivered (2xx), 1 when worth retrying (5xx, 429,
 * a connection failure or timeout, DNS failure), -1 when not (the URL or
 * a resolved address is refused, a redirect or another 4xx, no secret).
 * A response body past max_response is cut off, not an error: the
 * status decides. err (may be NULL) gets a one-line reason.
 */
int es_webhook_post(const es_webhook_config *cfg, const char *url,
                    const char *secret, const char *body, size_t len,
                    long long now_s, long *status, char *err, size_t err_size);

/*
 * Writes the lower-case hex HMAC-SHA256(secret, "<t>.<body>") into
 * out_hex (65 bytes with the NUL): the v1 value of the signature header.
 * 0, or -1 when out of memory.
 */
int es_webhook_sign(const char *secret, long long t, const char *body,
                    size_t len, char out_hex[65]);

/*
 * Why an address must not be contacted: a short class name ("loopback",
 * "private", "link-local", "cgnat", "multicast", "unspecified",
 * "broadcast", "reserved", "documentation", "benchmarking", "teredo",
 * "ipv4-compatible", or one of these after "ipv4-mapped ", "nat64 ",
 * "6to4 ", "ipv4-translated "), or NULL when it is a public unicast
 * address. family is AF_INET (addr: 4 bytes) or AF_INET6 (16 bytes);
 * any other family is "reserved".
 */
const char *es_webhook_addr_class(int family, const unsigned char *addr);

/* One notification as a Slack-compatible message (es_webhook_slack_body). */
typedef struct {
    const char *title;        /* one line, plain text */
    const char *const *lines; /* nlines lines of plain text */
    size_t nlines;
    const char *link_url;  /* http(s) URL of a button, or NULL */
    const char *link_text; /* its label; NULL = "Open in EchoStream" */
    json_t *data; /* borrowed; NULL, or any JSON sent as "echostream" */
} es_webhook_card;

/*
 * Builds the JSON body Slack's incoming webhooks (and Mattermost, Rocket
 * .Chat, Discord's /slack endpoint) understand: "text" (the title and
 * lines, the fallback for notifications), "blocks" (a header, the lines
 * as mrkdwn sections, a button to link_url) and, for other receivers,
 * "echostream": data. Text is UTF-8 (invalid bytes become U+FFFD),
 * escaped for mrkdwn (&, <, >) so comment text cannot mention @channel
 * or forge links, and cut to Slack's limits. Returns a malloc'd string
 * (free it) with its length in *len (may be NULL), or NULL when title is
 * NULL, link_url is not an http(s) URL, or memory ran out.
 */
char *es_webhook_slack_body(const es_webhook_card *card, size_t *len);

#endif
