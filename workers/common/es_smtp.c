/*
 * es_smtp.c - one message to an SMTP server with libcurl (es_smtp.h).
 *
 * A fresh easy handle per message: alerts are few and a long-lived SMTP
 * session would need its own keep-alive and error recovery for nothing.
 * Proxies from the environment are ignored (mail goes where smtp.url
 * says). The loopback test reads the host the way libcurl will connect
 * to it (curl_url normalises "127.1" and friends), so the policy and the
 * connection can never disagree about which host is meant. Credentials
 * are handed to libcurl and nowhere else; error texts come from libcurl's
 * own messages, which never carry them.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "es_mime.h"
#include "es_smtp.h"
#include "es_worker.h"

#define ES_SMTP_TIMEOUT_MS         30000L
#define ES_SMTP_CONNECT_TIMEOUT_MS 10000L
/* a stop request lets a message in flight finish for this long at most */
#define ES_SMTP_STOP_GRACE_MS 5000

typedef struct {
    const char *msg;
    size_t len;
    size_t pos;
} upload;

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

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;

    if (n > u->len - u->pos) {
        n = u->len - u->pos;
    }
    memcpy(buf, u->msg + u->pos, n);
    u->pos += n;
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
    return es_stop_age_ms() > ES_SMTP_STOP_GRACE_MS; /* nonzero aborts */
}

/* 1 when host (as curl_url gives it: IPv6 in brackets) is loopback */
static int host_is_loopback(const char *host)
{
    unsigned char a[16];
    char v6[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }
    if (inet_pton(AF_INET, host, a) == 1) {
        return a[0] == 127;
    }
    if (n >= 2 && n - 2 < sizeof(v6) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(v6, host + 1, n - 2);
        v6[n - 2] = '\0';
        if (inet_pton(AF_INET6, v6, a) == 1) {
            static const unsigned char one[16] = {[15] = 1};

            return memcmp(a, one, 16) == 0;
        }
    }
    return 0;
}

int es_smtp_url_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int yes = 0;

    if (u == NULL || url == NULL) {
        curl_url_cleanup(u);
        return 0;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        yes = host_is_loopback(host);
    }
    curl_free(host);
    curl_url_cleanup(u);
    return yes;
}

int es_smtp_tls_mandatory(const char *url, int require_tls)
{
    return require_tls && !es_smtp_url_is_loopback(url);
}

int es_smtp_outcome(int curl_code, long reply)
{
    if (curl_code == CURLE_OK) {
        return 0;
    }
    /* the server said what it thinks: 5xx is final, 4xx is for now */
    if (reply >= 500 && reply <= 599) {
        return -1;
    }
    if (reply >= 400 && reply <= 499) {
        return 1;
    }
    switch (curl_code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_USE_SSL_FAILED: /* TLS required, STARTTLS not offered */
    case CURLE_LOGIN_DENIED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FILESIZE_EXCEEDED: /* larger than the server's SIZE */
        return -1;
    default:
        /* refused, reset, timed out, name not resolved yet: transient */
        return 1;
    }
}

/* 1 when url is smtp:// or smtps:// */
static int smtp_scheme(const char *url)
{
    return strncasecmp(url, "smtp://", 7) == 0 ||
           strncasecmp(url, "smtps://", 8) == 0;
}

int es_smtp_send(const es_smtp_config *cfg, const char *from_addr,
                 const char *const *to, size_t nto, const char *msg, size_t len,
                 char *err, size_t err_size)
{
    static int global_done;
    char addr[ES_MIME_ADDR_MAX + 1];
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *rcpt = NULL;
    upload up = {msg, len, 0};
    CURL *c = NULL;
    CURLcode rc;
    long reply = 0, timeout;
    int outcome = -1;

    set_err(err, err_size, "%s", "");
    if (cfg == NULL || cfg->url == NULL || !smtp_scheme(cfg->url) ||
        msg == NULL || to == NULL || nto == 0) {
        set_err(err, err_size, "%s", "smtp: bad configuration");
        return -1;
    }
    for (size_t i = 0; i < nto; i++) {
        struct curl_slist *n;

        if (es_mime_addr_spec(to[i], addr, sizeof(addr)) != 0) {
            set_err(err, err_size, "smtp: recipient %zu is not an address", i);
            goto done;
        }
        n = curl_slist_append(rcpt, addr);
        if (n == NULL) {
            set_err(err, err_size, "%s", "smtp: out of memory");
            goto done;
        }
        rcpt = n;
    }
    if (es_mime_addr_spec(from_addr, addr, sizeof(addr)) != 0) {
        set_err(err, err_size, "%s", "smtp: sender is not an address");
        goto done;
    }
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    c = curl_easy_init();
    if (c == NULL) {
        set_err(err, err_size, "%s", "smtp: no curl handle");
        outcome = 1;
        goto done;
    }
    timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : ES_SMTP_TIMEOUT_MS;
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < ES_SMTP_CONNECT_TIMEOUT_MS
                         ? timeout
                         : ES_SMTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     es_smtp_tls_mandatory(cfg->url, cfg->require_tls)
                         ? (long)CURLUSESSL_ALL
                         : (long)CURLUSESSL_TRY);
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    }
    if (cfg->user != NULL && cfg->user[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD,
                         cfg->password != NULL ? cfg->password : "");
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    outcome = es_smtp_outcome((int)rc, reply);
    if (rc != CURLE_OK) {
        set_err(err, err_size, "smtp: %s (last reply %ld)",
                errbuf[0] ? errbuf : curl_easy_strerror(rc), reply);
    }

done:
    if (c != NULL) {
        /* libcurl keeps its own copy of the password: drop the handle */
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(rcpt);
    return outcome;
}
