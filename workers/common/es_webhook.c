/*
 * es_webhook.c - the signed, pinned webhook POST (es_webhook.h).
 *
 * Steps: check the URL's form; parse it with libcurl's own parser, so the
 * host resolved here is the host libcurl would connect to ("2130706433"
 * and "0x7f.1" come out as 127.0.0.1 from both); resolve it with
 * getaddrinfo and refuse the request if ANY address is refused (an
 * attacker's DNS may answer with a public and a private address, hoping
 * the client tries both); pin libcurl to the checked addresses
 * (CURLOPT_RESOLVE); and check again in the socket-open callback, where
 * the real destination is known, that it is one of them. The last check
 * is what makes the guarantee: whatever libcurl resolves or however it
 * reads the URL, it cannot open a socket to an address this file did not
 * approve. Proxies from the environment are off: a proxy would be the
 * real destination.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "es_webhook.h"
#include "es_worker.h"

#define ES_WEBHOOK_TIMEOUT_MS         10000L
#define ES_WEBHOOK_CONNECT_TIMEOUT_MS 5000L
#define ES_WEBHOOK_MAX_RESPONSE       65536
#define ES_WEBHOOK_MAX_ADDRS          16
#define ES_WEBHOOK_STOP_GRACE_MS      5000
#define ES_WEBHOOK_USER_AGENT         "EchoStream-Webhook/1"

typedef struct {
    int family;
    unsigned char a[16];
} pinned_addr;

typedef struct {
    pinned_addr addrs[ES_WEBHOOK_MAX_ADDRS];
    int naddrs;
    int allow_insecure;
    int refused_socket; /* the open callback refused a destination */
    size_t max;
    size_t got;
    int cut;
    char head[128]; /* the start of the response, for error messages */
    size_t head_len;
} post_state;

__attribute__((format(printf, 3, 4))) static void
set_err(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && size > 0) {
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
}

static void curl_once(void)
{
    static int done;

    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

/* 1 when the authority of url (after "://", before / ? #) holds an '@' */
static int authority_has_at(const char *url)
{
    const char *p = strstr(url, "://");

    if (p == NULL) {
        return 0;
    }
    p += 3;
    return memchr(p, '@', strcspn(p, "/?#")) != NULL;
}

/* parses url into a new CURLU (caller cleans up) or NULL, with a reason */
static CURLU *parse_url(const char *url, int allow_insecure, char *err,
                        size_t err_size)
{
    CURLU *u;
    char *part = NULL;
    size_t n;
    int bad = 0;

    if (url == NULL) {
        set_err(err, err_size, "webhook: no URL");
        return NULL;
    }
    n = strlen(url);
    if (n > ES_WEBHOOK_URL_MAX) {
        set_err(err, err_size, "webhook: URL longer than %d bytes",
                ES_WEBHOOK_URL_MAX);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) {
            set_err(err, err_size,
                    "webhook: URL must be printable ASCII without spaces");
            return NULL;
        }
    }
    /* the plain form only: scheme, "://", then the host at once (curl
       would also take "https:/host" and "https:///host") */
    if (!((strncasecmp(url, "https://", 8) == 0 &&
           strchr("/?#", url[8]) == NULL) ||
          (strncasecmp(url, "http://", 7) == 0 &&
           strchr("/?#", url[7]) == NULL))) {
        set_err(err, err_size, "webhook: URL must be https://%s with a host",
                allow_insecure ? " or http://" : "");
        return NULL;
    }
    curl_once();
    u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        set_err(err, err_size, "webhook: URL does not parse");
        curl_url_cleanup(u);
        return NULL;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
        !(strcmp(part, "https") == 0 ||
          (allow_insecure && strcmp(part, "http") == 0))) {
        set_err(err, err_size, "webhook: URL must be https://%s",
                allow_insecure ? " or http://" : "");
        bad = 1;
    }
    curl_free(part);
    part = NULL;
    if (!bad && (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK ||
                 part[0] == '\0')) {
        set_err(err, err_size, "webhook: URL has no host");
        bad = 1;
    }
    curl_free(part);
    part = NULL;
    /* "https://good.example@evil.example/" must not pass for good: asked
       of curl's parse and of the text, so neither reading can differ */
    if (!bad && (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK ||
                 authority_has_at(url))) {
        set_err(err, err_size, "webhook: URL must not carry user-info");
        bad = 1;
    }
    curl_free(part);
    part = NULL;
    if (!bad && curl_url_get(u, CURLUPART_ZONEID, &part, 0) == CURLUE_OK) {
        set_err(err, err_size, "webhook: URL must not name an IPv6 zone");
        bad = 1;
    }
    curl_free(part);
    if (bad) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

int es_webhook_check_url(const char *url, int allow_insecure, char *err,
                         size_t err_size)
{
    CURLU *u = parse_url(url, allow_insecure, err, err_size);

    if (u == NULL) {
        return -1;
    }
    curl_url_cleanup(u);
    return 0;
}

int es_webhook_sign(const char *secret, long long t, const char *body,
                    size_t len, char out_hex[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", t);
    unsigned char *msg = malloc((size_t)plen + len + 1);

    if (msg == NULL) {
        return -1;
    }
    memcpy(msg, prefix, (size_t)plen);
    if (len > 0) {
        memcpy(msg + plen, body, len);
    }
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, (size_t)plen + len,
             mac, &mac_len) == NULL) {
        free(msg);
        return -1;
    }
    free(msg);
    for (unsigned int i = 0; i < mac_len && i < 32; i++) {
        out_hex[2 * i] = "0123456789abcdef"[mac[i] >> 4];
        out_hex[2 * i + 1] = "0123456789abcdef"[mac[i] & 0x0f];
    }
    out_hex[64] = '\0';
    return 0;
}

/* the address bytes of sa into p; 0, or -1 for another family */
static int sockaddr_bytes(const struct sockaddr *sa, pinned_addr *p)
{
    memset(p, 0, sizeof(*p));
    p->family = sa->sa_family;
    if (sa->sa_family == AF_INET) {
        memcpy(p->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
               4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(p->a,
               &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static curl_socket_t on_open(void *ud, curlsocktype purpose,
                             struct curl_sockaddr *addr)
{
    post_state *st = ud;
    pinned_addr p;

    (void)purpose;
    if (sockaddr_bytes(&addr->addr, &p) == 0) {
        for (int i = 0; i < st->naddrs; i++) {
            if (st->addrs[i].family == p.family &&
                memcmp(st->addrs[i].a, p.a, 16) == 0 &&
                (st->allow_insecure ||
                 es_webhook_addr_class(p.family, p.a) == NULL)) {
                return socket(addr->family, addr->socktype, addr->protocol);
            }
        }
    }
    st->refused_socket = 1;
    return CURL_SOCKET_BAD;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    post_state *st = ud;
    size_t n = size * nmemb;

    if (st->head_len < sizeof(st->head) - 1) {
        size_t k = sizeof(st->head) - 1 - st->head_len;

        k = k < n ? k : n;
        memcpy(st->head + st->head_len, data, k);
        st->head_len += k;
    }
    st->got += n;
    if (st->got > st->max) {
        st->cut = 1;
        return 0; /* stops the transfer: the rest is never read */
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return es_stop_age_ms() > ES_WEBHOOK_STOP_GRACE_MS; /* nonzero aborts */
}

/*
 * Resolves host, refuses it when any address is refused, fills st->addrs
 * and the CURLOPT_RESOLVE entry "host:port:a1,a2" (pin, pin_size).
 * 0, 1 (resolution failed: retry), -1 (refused).
 */
static int resolve_and_check(const char *host, const char *port, post_state *st,
                             char *pin, size_t pin_size, char *err,
                             size_t err_size)
{
    struct addrinfo hints, *res = NULL;
    char bare[256];
    size_t n = strlen(host), o;
    int rc;

    /* curl_url gives IPv6 literals in brackets; getaddrinfo takes them
       bare */
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= sizeof(bare)) {
        set_err(err, err_size, "webhook: host name too long");
        return -1;
    }
    memcpy(bare, host, n);
    bare[n] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(bare, port, &hints, &res);
    if (rc != 0) {
        set_err(err, err_size, "webhook: cannot resolve host: %s",
                gai_strerror(rc));
        return 1;
    }
    o = (size_t)snprintf(pin, pin_size, "%s:%s:", bare, port);
    st->naddrs = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        pinned_addr p;
        char text[INET6_ADDRSTRLEN];
        const char *why;
        int dup = 0;

        if (sockaddr_bytes(ai->ai_addr, &p) != 0) {
            continue;
        }
        inet_ntop(p.family, p.a, text, sizeof(text));
        why = es_webhook_addr_class(p.family, p.a);
        if (why != NULL && !st->allow_insecure) {
            set_err(err, err_size,
                    "webhook: destination refused: %s resolves to %s (%s)",
                    bare, text, why);
            freeaddrinfo(res);
            return -1;
        }
        for (int i = 0; i < st->naddrs; i++) {
            dup |= st->addrs[i].family == p.family &&
                   memcmp(st->addrs[i].a, p.a, 16) == 0;
        }
        if (dup || st->naddrs == ES_WEBHOOK_MAX_ADDRS) {
            continue;
        }
        st->addrs[st->naddrs++] = p;
        o += (size_t)snprintf(pin + o, o < pin_size ? pin_size - o : 0,
                              p.family == AF_INET6 ? "%s[%s]" : "%s%s",
                              st->naddrs > 1 ? "," : "", text);
    }
    freeaddrinfo(res);
    {
        unsigned char lit[16];

        /* an address literal is not resolved by libcurl (and a v6 one
           would not parse as a CURLOPT_RESOLVE host): the socket check
           alone holds it to itself */
        if (inet_pton(AF_INET, bare, lit) == 1 ||
            inet_pton(AF_INET6, bare, lit) == 1) {
            pin[0] = '\0';
        }
    }
    if (st->naddrs == 0 || o >= pin_size) {
        set_err(err, err_size, "webhook: no usable address for %s", bare);
        return st->naddrs == 0 ? 1 : -1;
    }
    return 0;
}

/* appends s to l; on failure keeps l whole and sets *oom */
static struct curl_slist *append(struct curl_slist *l, const char *s, int *oom)
{
    struct curl_slist *n = curl_slist_append(l, s);

    if (n == NULL) {
        *oom = 1;
        return l;
    }
    return n;
}

/* the outcome of a finished exchange with HTTP status (0 = none) */
static int outcome_of(CURLcode rc, long status, const post_state *st)
{
    if (st->refused_socket) {
        return -1;
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && st->cut)) {
        return rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT ||
                       rc == CURLE_SSL_CACERT_BADFILE
                   ? -1
                   : 1;
    }
    if (status >= 200 && status <= 299) {
        return 0;
    }
    return status == 429 || (status >= 500 && status <= 599) ? 1 : -1;
}

/* a printable excerpt of the response, for an error message */
static void excerpt(post_state *st)
{
    for (size_t i = 0; i < st->head_len; i++) {
        unsigned char c = (unsigned char)st->head[i];

        if (c < 0x20 || c >= 0x7f) {
            st->head[i] = ' ';
        }
    }
    st->head[st->head_len] = '\0';
}

int es_webhook_post(const es_webhook_config *cfg, const char *url,
                    const char *secret, const char *body, size_t len,
                    long long now_s, long *status, char *err, size_t err_size)
{
    post_state *st = NULL;
    CURLU *u = NULL;
    CURL *c = NULL;
    struct curl_slist *hdrs = NULL, *pin = NULL;
    char *host = NULL, *port = NULL;
    char pin_entry[512 + ES_WEBHOOK_MAX_ADDRS * (INET6_ADDRSTRLEN + 3)];
    char sig[65], sig_header[128];
    long timeout, code = 0;
    CURLcode rc;
    int outcome = -1, oom = 0;

    set_err(err, err_size, "%s", "");
    if (status != NULL) {
        *status = 0;
    }
    if (cfg == NULL || secret == NULL || secret[0] == '\0' ||
        (body == NULL && len > 0)) {
        set_err(err, err_size, "webhook: no configuration or secret");
        return -1;
    }
    u = parse_url(url, cfg->allow_insecure, err, err_size);
    if (u == NULL) {
        return -1;
    }
    st = malloc(sizeof(*st));
    if (st == NULL || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK) {
        set_err(err, err_size, "webhook: URL does not parse");
        goto done;
    }
    memset(st, 0, sizeof(*st));
    st->allow_insecure = cfg->allow_insecure;
    st->max = cfg->max_response ? cfg->max_response : ES_WEBHOOK_MAX_RESPONSE;
    outcome = resolve_and_check(host, port, st, pin_entry, sizeof(pin_entry),
                                err, err_size);
    if (outcome != 0) {
        goto done;
    }
    outcome = 1;
    if (es_webhook_sign(secret, now_s, body ? body : "", len, sig) != 0) {
        set_err(err, err_size, "webhook: out of memory");
        goto done;
    }
    snprintf(sig_header, sizeof(sig_header),
             "X-EchoStream-Signature: t=%lld,v1=%s", now_s, sig);
    if (pin_entry[0] != '\0') {
        pin = curl_slist_append(NULL, pin_entry);
        if (pin == NULL) {
            set_err(err, err_size, "webhook: out of memory");
            goto done;
        }
    }
    hdrs = append(hdrs, "Content-Type: application/json", &oom);
    hdrs = append(hdrs, sig_header, &oom);
    /* no "Expect: 100-continue" round trip for a large body */
    hdrs = append(hdrs, "Expect:", &oom);
    c = curl_easy_init();
    if (oom || c == NULL) {
        set_err(err, err_size, "webhook: out of memory");
        goto done;
    }
    timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : ES_WEBHOOK_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_CURLU, u);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     cfg->allow_insecure ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (pin != NULL) {
        curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
    }
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, st);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < ES_WEBHOOK_CONNECT_TIMEOUT_MS
                         ? timeout
                         : ES_WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ES_WEBHOOK_USER_AGENT);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    }

    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (status != NULL) {
        *status = code;
    }
    outcome = outcome_of(rc, code, st);
    excerpt(st);
    if (st->refused_socket) {
        set_err(err, err_size,
                "webhook: destination refused: not the checked address");
    } else if (rc != CURLE_OK && !st->cut) {
        set_err(err, err_size, "webhook: %s", curl_easy_strerror(rc));
    } else if (outcome != 0) {
        set_err(err, err_size, "webhook: HTTP %ld%s%s", code,
                st->head_len ? ": " : "", st->head);
    } else if (st->cut) {
        set_err(err, err_size, "webhook: response cut at %zu bytes", st->max);
    }

done:
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(pin);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    free(st);
    return outcome;
}
