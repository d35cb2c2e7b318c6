/*
 * es_http.c - libcurl exchange helper (see es_http.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "es_http.h"
#include "es_worker.h"

/*
 * A request in flight when the worker is told to stop may finish (it is the
 * work in hand), but not hold the exit up beyond this.
 */
#define ES_HTTP_STOP_GRACE_MS 5000

struct es_http {
    CURL *curl;
    char *user_agent;
    char *keep[8];
    char *buf;
    size_t len;
    size_t cap;
    size_t max;
    int too_large;
    es_http_response *resp;
};

es_http *es_http_new(const char *user_agent)
{
    static int global_done;
    es_http *h;

    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return NULL;
    }
    h->curl = curl_easy_init();
    h->user_agent = strdup(user_agent ? user_agent : "echostream");
    if (h->curl == NULL || h->user_agent == NULL) {
        es_http_free(h);
        return NULL;
    }
    return h;
}

void es_http_free(es_http *h)
{
    if (h == NULL) {
        return;
    }
    if (h->curl) {
        curl_easy_cleanup(h->curl);
    }
    for (int i = 0; i < 8; i++) {
        free(h->keep[i]);
    }
    free(h->user_agent);
    free(h->buf);
    free(h);
}

void es_http_keep_header(es_http *h, int slot, const char *name)
{
    if (slot < 0 || slot >= 8) {
        return;
    }
    free(h->keep[slot]);
    h->keep[slot] = strdup(name);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    es_http *h = ud;
    size_t n = size * nmemb;

    if (h->len + n > h->max) {
        h->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 65536;
        char *nb;
        while (cap < h->len + n + 1) {
            cap *= 2;
        }
        nb = realloc(h->buf, cap);
        if (nb == NULL) {
            return 0;
        }
        h->buf = nb;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, n);
    h->len += n;
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
    return es_stop_age_ms() > ES_HTTP_STOP_GRACE_MS; /* nonzero aborts */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    es_http *h = ud;
    size_t n = size * nmemb;
    const char *colon = memchr(data, ':', n);

    if (colon == NULL) {
        return n;
    }
    for (int i = 0; i < 8; i++) {
        size_t klen;
        const char *v, *end;
        size_t vlen;

        if (h->keep[i] == NULL) {
            continue;
        }
        klen = strlen(h->keep[i]);
        if ((size_t)(colon - data) != klen ||
            strncasecmp(data, h->keep[i], klen) != 0) {
            continue;
        }
        v = colon + 1;
        end = data + n;
        while (v < end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (end > v &&
               (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
            end--;
        }
        vlen = (size_t)(end - v);
        if (vlen >= sizeof(h->resp->header_values[i])) {
            vlen = sizeof(h->resp->header_values[i]) - 1;
        }
        memcpy(h->resp->header_values[i], v, vlen);
        h->resp->header_values[i][vlen] = '\0';
        h->resp->header_found[i] = 1;
    }
    return n;
}

void es_http_perform(es_http *h, const es_http_request *req,
                     es_http_response *resp)
{
    struct curl_slist *hdrs = NULL;
    CURL *c = h->curl;
    CURLcode rc;

    memset(resp, 0, sizeof(*resp));
    h->len = 0;
    h->too_large = 0;
    h->max = req->max_body ? req->max_body : 8 * 1024 * 1024;
    h->resp = resp;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : 20000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    for (const char *const *p = req->headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(hdrs, *p);
        if (n == NULL) {
            break;
        }
        hdrs = n;
    }
    if (hdrs) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    if (req->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
    }
    if (req->body || (req->method && strcmp(req->method, "POST") == 0)) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
    }
    if (req->method && strcmp(req->method, "GET") != 0 &&
        strcmp(req->method, "POST") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }

    rc = curl_easy_perform(c);
    if (hdrs) {
        curl_slist_free_all(hdrs);
    }
    if (h->too_large) {
        snprintf(resp->error, sizeof(resp->error),
                 "response body larger than %zu bytes", h->max);
        return;
    }
    if (rc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "%s",
                 curl_easy_strerror(rc));
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (h->buf == NULL) {
        h->buf = malloc(1);
        if (h->buf == NULL) {
            resp->status = 0;
            snprintf(resp->error, sizeof(resp->error), "out of memory");
            return;
        }
        h->cap = 1;
    }
    h->buf[h->len] = '\0';
    resp->body = h->buf;
    resp->body_len = h->len;
}
