/*
 * es_config.c - configuration table, file and environment (see es_config.h).
 *
 * Values live in an array parallel to es_config_keys, so a lookup is a
 * linear scan over a few dozen names: configuration is read at start-up and
 * kept in typed variables by the workers, never looked up per comment.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_config.h"
#include "es_redis_url.h"

struct es_config {
    size_t n;
    char **values;
    const char **sources;
};

static long key_index(const char *key)
{
    for (long i = 0; es_config_keys[i].key; i++) {
        if (strcmp(es_config_keys[i].key, key) == 0) {
            return i;
        }
    }
    return -1;
}

static long must_index(const char *key)
{
    long i = key_index(key);
    if (i < 0) {
        /* a programming error: the key is missing from es_config_keys.c */
        fprintf(stderr, "es_config: undeclared key \"%s\"\n", key);
        abort();
    }
    return i;
}

es_config *es_config_new(void)
{
    es_config *cfg = calloc(1, sizeof(*cfg));
    size_t n = 0;

    if (cfg == NULL) {
        return NULL;
    }
    while (es_config_keys[n].key) {
        n++;
    }
    cfg->n = n;
    cfg->values = calloc(n, sizeof(char *));
    cfg->sources = calloc(n, sizeof(char *));
    if (cfg->values == NULL || cfg->sources == NULL) {
        es_config_free(cfg);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        cfg->values[i] = strdup(es_config_keys[i].def);
        cfg->sources[i] = "default";
        if (cfg->values[i] == NULL) {
            es_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

void es_config_free(es_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    if (cfg->values) {
        for (size_t i = 0; i < cfg->n; i++) {
            free(cfg->values[i]);
        }
    }
    free(cfg->values);
    free(cfg->sources);
    free(cfg);
}

int es_config_set(es_config *cfg, const char *key, const char *value,
                  const char *source)
{
    long i = key_index(key);
    char *copy;

    if (i < 0) {
        return -1;
    }
    copy = strdup(value);
    if (copy == NULL) {
        return -1;
    }
    free(cfg->values[i]);
    cfg->values[i] = copy;
    cfg->sources[i] = source;
    return 0;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        end--;
    }
    *end = '\0';
    return s;
}

int es_config_load_file(es_config *cfg, const char *path, char *err,
                        size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;
    int rc = 0;

    if (f == NULL) {
        snprintf(err, errlen, "cannot open config file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p, *eq, *key, *value;
        size_t len = strlen(line);

        lineno++;
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        p = trim(line);
        if (*p == '\0' || *p == '#') {
            continue;
        }
        eq = strchr(p, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected \"key = value\"", path,
                     lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        key = trim(p);
        value = trim(eq + 1);
        /*
         * "value" quoting keeps edge spaces and '#'; an unquoted value ends
         * at a " #" comment.
         */
        len = strlen(value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
            value[len - 1] = '\0';
            value++;
        } else {
            char *hash = strstr(value, " #");
            char *tab = strstr(value, "\t#");
            if (tab && (!hash || tab < hash)) {
                hash = tab;
            }
            if (hash) {
                *hash = '\0';
                value = trim(value);
            }
        }
        if (key_index(key) < 0) {
            snprintf(err, errlen, "%s:%d: unknown configuration key \"%s\"",
                     path, lineno, key);
            rc = -1;
            break;
        }
        if (es_config_set(cfg, key, value, "file") != 0) {
            snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

void es_config_env_name(const char *key, char *buf, size_t size)
{
    size_t o = 0;
    const char *prefix = "ECHOSTREAM_";

    for (; *prefix && o + 1 < size; prefix++) {
        buf[o++] = *prefix;
    }
    for (; *key && o + 1 < size; key++) {
        char c = *key;
        buf[o++] = c == '.' ? '_' : (char)toupper((unsigned char)c);
    }
    buf[o] = '\0';
}

void es_config_apply_env(es_config *cfg, char *const *envp)
{
    char name[128];

    for (size_t i = 0; i < cfg->n; i++) {
        size_t nlen;

        es_config_env_name(es_config_keys[i].key, name, sizeof(name));
        nlen = strlen(name);
        for (char *const *e = envp; e && *e; e++) {
            if (strncmp(*e, name, nlen) == 0 && (*e)[nlen] == '=') {
                es_config_set(cfg, es_config_keys[i].key, *e + nlen + 1, "env");
            }
        }
    }
}

const char *es_config_str(const es_config *cfg, const char *key)
{
    return cfg->values[must_index(key)];
}

const char *es_config_source(const es_config *cfg, const char *key)
{
    return cfg->sources[must_index(key)];
}

static void bad_value(const char *key, const char *value, const char *want,
                      char *err, size_t errlen)
{
    char env[128];

    es_config_env_name(key, env, sizeof(env));
    snprintf(err, errlen, "invalid value \"%.64s\" for %s (%s): %s", value, key,
             env, want);
}

int es_config_int(const es_config *cfg, const char *key, long long min,
                  long long max, long long *out, char *err, size_t errlen)
{
    const char *v = es_config_str(cfg, key);
    char *end;
    char want[96];
    long long x;

    errno = 0;
    x = strtoll(v, &end, 10);
    snprintf(want, sizeof(want), "expected an integer in [%lld, %lld]", min,
             max);
    if (errno != 0 || end == v || *end != '\0' || x < min || x > max) {
        bad_value(key, v, want, err, errlen);
        return -1;
    }
    *out = x;
    return 0;
}

int es_config_double(const es_config *cfg, const char *key, double min,
                     double max, double *out, char *err, size_t errlen)
{
    const char *v = es_config_str(cfg, key);
    char *end;
    char want[96];
    double x;

    errno = 0;
    x = strtod(v, &end);
    snprintf(want, sizeof(want), "expected a number in [%g, %g]", min, max);
    if (errno != 0 || end == v || *end != '\0' || isnan(x) || x < min ||
        x > max) {
        bad_value(key, v, want, err, errlen);
        return -1;
    }
    *out = x;
    return 0;
}

int es_config_bool(const es_config *cfg, const char *key, int *out, char *err,
                   size_t errlen)
{
    const char *v = es_config_str(cfg, key);

    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") ||
        !strcmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
        !strcmp(v, "off")) {
        *out = 0;
        return 0;
    }
    bad_value(key, v, "expected true or false", err, errlen);
    return -1;
}

void es_config_redact(const char *v, char *out, size_t size)
{
    const char *at = es_redis_url_auth_end(v), *auth, *colon;
    size_t n;

    if (size == 0) {
        return;
    }
    if (at == NULL) {
        snprintf(out, size, "%s", v);
        return;
    }
    auth = strstr(v, "://") + 3;
    colon = memchr(auth, ':', (size_t)(at - auth));
    n = (size_t)((colon != NULL ? colon + 1 : auth) - v);
    snprintf(out, size, "%.*s***%s", (int)n, v, at);
}

void es_config_print(const es_config *cfg, const char *const *prefixes,
                     void *stream)
{
    FILE *out = stream;
    char env[128];

    for (size_t i = 0; i < cfg->n; i++) {
        const es_config_key *k = &es_config_keys[i];
        int match = prefixes == NULL;

        for (const char *const *p = prefixes; p && *p; p++) {
            if (strncmp(k->key, *p, strlen(*p)) == 0) {
                match = 1;
            }
        }
        if (!match) {
            continue;
        }
        es_config_env_name(k->key, env, sizeof(env));
        fprintf(out, "  %-28s %s\n", k->key, k->help);
        if (k->secret) {
            fprintf(out, "  %-28s   env %s, now %s\n", "", env,
                    cfg->values[i][0] ? "(set)" : "(unset)");
        } else {
            char shown[1024];
            es_config_redact(cfg->values[i], shown, sizeof(shown));
            fprintf(out, "  %-28s   env %s, default \"%s\", now \"%s\" (%s)\n",
                    "", env, k->def, shown, cfg->sources[i]);
        }
    }
}
