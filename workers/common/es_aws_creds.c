/*
 * es_aws_creds.c - the AWS credential chain (see es_aws_creds.h).
 *
 * The chain is resolved lazily and held: environment and file credentials
 * never expire, IMDS credentials are fetched again once inside the refresh
 * margin. A failed refresh keeps the held credentials until they really
 * expire, so a metadata-service hiccup does not stop the callers. The
 * parsers take text, not files or sockets, so the unit tests feed them
 * directly.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "es_aws_creds.h"
#include "es_http.h"
#include "es_log.h"
#include "es_worker.h"

/* Refresh this long before expiry (the SDKs use 5-15 minutes). */
#define ES_AWS_REFRESH_MARGIN_MS (10LL * 60 * 1000)
#define ES_AWS_FILE_MAX          (1024 * 1024)
#define ES_IMDS_TOKEN_TTL        "21600"

struct es_aws_chain {
    char *profile;
    char *imds_endpoint;
    int imds_enabled;
    long imds_timeout_ms;
    es_http *http; /* created on the first IMDS call */
    int have;
    es_aws_creds held;
    long long refresh_at_ms; /* wall clock; held ones are fetched again */
    char logged_source[96];  /* what the last log line reported */
    char logged_key[128];
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", msg);
    }
}

void es_aws_creds_clear(es_aws_creds *cr)
{
    OPENSSL_cleanse(cr, sizeof(*cr));
}

int es_aws_creds_stale(const es_aws_creds *cr, long long now_ms)
{
    if (cr->expires_ms == 0) {
        return 0;
    }
    return now_ms + ES_AWS_REFRESH_MARGIN_MS >= cr->expires_ms;
}

/* Copies src[0..n) into dst (size bytes) or fails when it does not fit. */
static int copy_field(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size) {
        return -1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

es_aws_chain *es_aws_chain_new(const es_aws_chain_opts *opts)
{
    es_aws_chain *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->profile = strdup(opts->profile ? opts->profile : "");
    c->imds_endpoint = strdup(opts->imds_endpoint ? opts->imds_endpoint
                                                  : "http://169.254.169.254");
    c->imds_enabled = opts->imds_enabled;
    c->imds_timeout_ms =
        opts->imds_timeout_ms > 0 ? opts->imds_timeout_ms : 1000;
    if (c->profile == NULL || c->imds_endpoint == NULL) {
        es_aws_chain_free(c);
        return NULL;
    }
    return c;
}

void es_aws_chain_free(es_aws_chain *c)
{
    if (c == NULL) {
        return;
    }
    es_aws_creds_clear(&c->held);
    es_http_free(c->http);
    free(c->profile);
    free(c->imds_endpoint);
    free(c);
}

void es_aws_chain_invalidate(es_aws_chain *c)
{
    c->have = 0;
}

/* ---- ISO 8601 ---- */

int es_aws_parse_iso8601(const char *s, long long *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) != 6 ||
        n == 0) {
        return -1;
    }
    s += n;
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
        }
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return -1;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return -1;
    }
    *ms = (long long)t * 1000;
    return 0;
}

/* ---- shared credentials file ---- */

static const char *trim(const char *s, const char *end, const char **out_end)
{
    while (s < end && isspace((unsigned char)*s)) {
        s++;
    }
    while (end > s && isspace((unsigned char)end[-1])) {
        end--;
    }
    *out_end = end;
    return s;
}

/* 1 when the section header text s[0..n) names profile. */
static int section_is(const char *s, size_t n, const char *profile)
{
    size_t plen = strlen(profile);
    const char *e;

    if (n > 8 && strncmp(s, "profile", 7) == 0 &&
        isspace((unsigned char)s[7])) {
        s = trim(s + 8, s + n, &e);
        n = (size_t)(e - s);
    }
    return n == plen && strncmp(s, profile, plen) == 0;
}

int es_aws_parse_credentials_file(const char *text, size_t len,
                                  const char *profile, es_aws_creds *out,
                                  char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int in_section = 0, found = 0;
    int got_id = 0, got_secret = 0;

    es_aws_creds_clear(out);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *ls, *lend, *eq, *k, *kend, *v, *vend;

        ls = trim(p, le, &lend);
        p = nl ? nl + 1 : end;
        if (ls == lend || *ls == '#' || *ls == ';') {
            continue;
        }
        if (*ls == '[') {
            const char *close = memchr(ls, ']', (size_t)(lend - ls));
            const char *ss, *se;
            if (close == NULL) {
                in_section = 0;
                continue;
            }
            ss = trim(ls + 1, close, &se);
            in_section = section_is(ss, (size_t)(se - ss), profile);
            found |= in_section;
            continue;
        }
        if (!in_section) {
            continue;
        }
        eq = memchr(ls, '=', (size_t)(lend - ls));
        if (eq == NULL) {
            continue;
        }
        k = trim(ls, eq, &kend);
        v = trim(eq + 1, lend, &vend);
        if ((size_t)(kend - k) == 17 &&
            strncasecmp(k, "aws_access_key_id", 17) == 0) {
            got_id = copy_field(out->access_key_id, sizeof(out->access_key_id),
                                v, (size_t)(vend - v)) == 0 &&
                     vend > v;
        } else if ((size_t)(kend - k) == 21 &&
                   strncasecmp(k, "aws_secret_access_key", 21) == 0) {
            got_secret = copy_field(out->secret_access_key,
                                    sizeof(out->secret_access_key), v,
                                    (size_t)(vend - v)) == 0 &&
                         vend > v;
        } else if ((size_t)(kend - k) == 17 &&
                   strncasecmp(k, "aws_session_token", 17) == 0) {
            if (copy_field(out->session_token, sizeof(out->session_token), v,
                           (size_t)(vend - v)) != 0) {
                out->session_token[0] = '\0';
            }
        }
    }
    if (!found) {
        set_err(err, errlen, "profile not found in credentials file");
        goto error;
    }
    if (!got_id || !got_secret) {
        set_err(err, errlen,
                "profile lacks aws_access_key_id or aws_secret_access_key");
        goto error;
    }
    snprintf(out->source, sizeof(out->source), "file:%.80s", profile);
    return 0;

error:
    es_aws_creds_clear(out);
    return -1;
}

/* ---- IMDS document ---- */

static int json_field(json_t *o, const char *name, char *dst, size_t size)
{
    json_t *v = json_object_get(o, name); /* borrowed */

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return -1;
    }
    return copy_field(dst, size, json_string_value(v), json_string_length(v));
}

int es_aws_parse_imds_json(const char *text, size_t len, es_aws_creds *out,
                           char *err, size_t errlen)
{
    json_t *doc = json_loadb(text, len, 0, NULL); /* new */
    json_t *code, *exp;
    int rc = -1;

    es_aws_creds_clear(out);
    if (!json_is_object(doc)) {
        set_err(err, errlen, "IMDS credentials are not a JSON object");
        goto cleanup;
    }
    code = json_object_get(doc, "Code");
    if (code && (!json_is_string(code) ||
                 strcmp(json_string_value(code), "Success") != 0)) {
        set_err(err, errlen, "IMDS credentials Code is not Success");
        goto cleanup;
    }
    if (json_field(doc, "AccessKeyId", out->access_key_id,
                   sizeof(out->access_key_id)) != 0 ||
        json_field(doc, "SecretAccessKey", out->secret_access_key,
                   sizeof(out->secret_access_key)) != 0 ||
        json_field(doc, "Token", out->session_token,
                   sizeof(out->session_token)) != 0) {
        set_err(err, errlen,
                "IMDS credentials lack AccessKeyId, "
                "SecretAccessKey or Token");
        goto cleanup;
    }
    exp = json_object_get(doc, "Expiration");
    if (!json_is_string(exp) ||
        es_aws_parse_iso8601(json_string_value(exp), &out->expires_ms) != 0) {
        set_err(err, errlen, "IMDS credentials lack a valid Expiration");
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (rc != 0) {
        es_aws_creds_clear(out);
    }
    json_decref(doc);
    return rc;
}

/* ---- sources ---- */

static int from_env(es_aws_creds *out)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");

    if (id == NULL || secret == NULL || *id == '\0' || *secret == '\0') {
        return -1;
    }
    es_aws_creds_clear(out);
    if (copy_field(out->access_key_id, sizeof(out->access_key_id), id,
                   strlen(id)) != 0 ||
        copy_field(out->secret_access_key, sizeof(out->secret_access_key),
                   secret, strlen(secret)) != 0 ||
        (token && copy_field(out->session_token, sizeof(out->session_token),
                             token, strlen(token)) != 0)) {
        es_aws_creds_clear(out);
        return -1;
    }
    snprintf(out->source, sizeof(out->source), "env");
    return 0;
}

static int from_file(const es_aws_chain *c, es_aws_creds *out, char *why,
                     size_t whylen)
{
    const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *profile = c->profile;
    char def[512];
    char *text = NULL;
    size_t n = 0;
    FILE *f;
    int rc = -1;

    if (path == NULL || *path == '\0') {
        const char *home = getenv("HOME");
        if (home == NULL || *home == '\0') {
            set_err(why, whylen, "no HOME for ~/.aws/credentials");
            return -1;
        }
        snprintf(def, sizeof(def), "%s/.aws/credentials", home);
        path = def;
    }
    if (*profile == '\0') {
        profile = getenv("AWS_PROFILE");
    }
    if (profile == NULL || *profile == '\0') {
        profile = "default";
    }
    f = fopen(path, "r");
    if (f == NULL) {
        set_err(why, whylen, "no shared credentials file");
        return -1;
    }
    text = malloc(ES_AWS_FILE_MAX);
    if (text == NULL) {
        set_err(why, whylen, "out of memory");
        goto cleanup;
    }
    n = fread(text, 1, ES_AWS_FILE_MAX, f);
    rc = es_aws_parse_credentials_file(text, n, profile, out, why, whylen);

cleanup:
    fclose(f);
    if (text) {
        OPENSSL_cleanse(text, n);
        free(text);
    }
    return rc;
}

static int imds_disabled_by_env(void)
{
    const char *v = getenv("AWS_EC2_METADATA_DISABLED");
    return v && strcasecmp(v, "true") == 0;
}

/* 1 when s is a plausible IAM role name (safe to put in a URL path). */
static int role_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-", s[i])) {
            return 0;
        }
    }
    return 1;
}

static int from_imds(es_aws_chain *c, es_aws_creds *out, char *why,
                     size_t whylen)
{
    char url[640], token[256], hdr[320], role[72];
    const char *ttl_hdr[] = {
        "X-aws-ec2-metadata-token-ttl-seconds: " ES_IMDS_TOKEN_TTL, NULL};
    const char *tok_hdr[] = {hdr, NULL};
    es_http_request req;
    es_http_response resp;
    size_t n;
    int rc = -1;

    if (c->http == NULL) {
        c->http = es_http_new("echostream-imds");
        if (c->http == NULL) {
            set_err(why, whylen, "out of memory");
            return -1;
        }
    }
    memset(&req, 0, sizeof(req));
    req.timeout_ms = c->imds_timeout_ms;
    req.max_body = 16384;

    snprintf(url, sizeof(url), "%s/latest/api/token", c->imds_endpoint);
    req.method = "PUT";
    req.url = url;
    req.headers = ttl_hdr;
    req.body = "";
    req.body_len = 0;
    es_http_perform(c->http, &req, &resp);
    if (resp.status != 200 || resp.body_len == 0 ||
        resp.body_len >= sizeof(token)) {
        snprintf(why, whylen, "IMDS token request failed (status %ld%s%.80s)",
                 resp.status, resp.error[0] ? ": " : "", resp.error);
        goto cleanup;
    }
    memcpy(token, resp.body, resp.body_len);
    token[resp.body_len] = '\0';
    snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", token);

    snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/",
             c->imds_endpoint);
    req.method = "GET";
    req.headers = tok_hdr;
    req.body = NULL;
    es_http_perform(c->http, &req, &resp);
    n = resp.body ? strcspn(resp.body, "\r\n") : 0;
    if (resp.status != 200 || !role_name_ok(resp.body, n)) {
        snprintf(why, whylen, "IMDS has no IAM role (status %ld%s%.80s)",
                 resp.status, resp.error[0] ? ": " : "", resp.error);
        goto cleanup;
    }
    memcpy(role, resp.body, n);
    role[n] = '\0';

    snprintf(url, sizeof(url),
             "%s/latest/meta-data/iam/security-credentials/%s",
             c->imds_endpoint, role);
    es_http_perform(c->http, &req, &resp);
    if (resp.status != 200) {
        snprintf(why, whylen, "IMDS credentials request failed (status %ld)",
                 resp.status);
        goto cleanup;
    }
    if (es_aws_parse_imds_json(resp.body, resp.body_len, out, why, whylen) !=
        0) {
        goto cleanup;
    }
    snprintf(out->source, sizeof(out->source), "imds:%s", role);
    rc = 0;

cleanup:
    OPENSSL_cleanse(token, sizeof(token));
    OPENSSL_cleanse(hdr, sizeof(hdr));
    if (resp.body && resp.body_len) {
        /* the last body may hold the secret: es_http keeps it until reuse */
        OPENSSL_cleanse(resp.body, resp.body_len);
    }
    return rc;
}

static int resolve(es_aws_chain *c, es_aws_creds *out, char *err, size_t errlen)
{
    char why_file[160] = "", why_imds[160] = "IMDS disabled";

    if (from_env(out) == 0) {
        return 0;
    }
    if (from_file(c, out, why_file, sizeof(why_file)) == 0) {
        return 0;
    }
    if (c->imds_enabled && !imds_disabled_by_env()) {
        if (from_imds(c, out, why_imds, sizeof(why_imds)) == 0) {
            return 0;
        }
    }
    snprintf(err, errlen, "no AWS credentials: environment unset; %s; %s",
             why_file, why_imds);
    return -1;
}

const es_aws_creds *es_aws_chain_get(es_aws_chain *c, char *err, size_t errlen)
{
    es_aws_creds fresh;
    long long now = es_now_ms();

    if (c->have && (c->held.expires_ms == 0 || now < c->refresh_at_ms)) {
        return &c->held;
    }
    if (resolve(c, &fresh, err, errlen) != 0) {
        es_aws_creds_clear(&fresh);
        if (c->have && c->held.expires_ms > now) {
            es_log(ES_WARN, "aws credentials refresh failed",
                   ES_STR("source", c->held.source), ES_STR("error", err),
                   ES_END);
            return &c->held;
        }
        c->have = 0;
        return NULL;
    }
    /* one line per change of source or key, not per re-resolution */
    if (strcmp(fresh.source, c->logged_source) != 0 ||
        strcmp(fresh.access_key_id, c->logged_key) != 0) {
        es_log(ES_INFO, "aws credentials", ES_STR("source", fresh.source),
               ES_STR("session_token", fresh.session_token[0] ? "yes" : "no"),
               ES_INT("expires_ms", fresh.expires_ms), ES_END);
        snprintf(c->logged_source, sizeof(c->logged_source), "%s",
                 fresh.source);
        snprintf(c->logged_key, sizeof(c->logged_key), "%s",
                 fresh.access_key_id);
    }
    es_aws_creds_clear(&c->held);
    c->held = fresh;
    c->have = 1;
    /*
     * Refresh inside the margin, but never sooner than half the remaining
     * lifetime: short-lived credentials must not cause a fetch per call.
     */
    if (fresh.expires_ms > now) {
        long long left = fresh.expires_ms - now;
        long long margin = ES_AWS_REFRESH_MARGIN_MS;
        if (margin > left / 2) {
            margin = left / 2;
        }
        c->refresh_at_ms = fresh.expires_ms - margin;
    } else {
        c->refresh_at_ms = now + 60000;
    }
    es_aws_creds_clear(&fresh);
    return &c->held;
}
