/*
 * es_config.h - worker configuration: one table of keys, a file, the
 * environment.
 *
 * Every key the workers understand is declared once, with its default and a
 * line of help, in es_config_keys.c; that table is the reference printed by
 * `--help` and documented in the README. Values come from, in rising order of
 * precedence: the default, the config file (`key = value` lines, `#`
 * comments), and the environment variable ECHOSTREAM_<KEY> where the key is
 * upper-cased and '.' becomes '_' (reddit.client_id is
 * ECHOSTREAM_REDDIT_CLIENT_ID). A file may hold keys for every worker, so one
 * file serves them all; an unknown key in it is an error, so typos surface.
 */
#ifndef ES_CONFIG_H
#define ES_CONFIG_H

#include <stddef.h>

typedef struct {
    const char *key;
    const char *def;
    const char *help;
    int secret; /* never printed or logged */
} es_config_key;

/* The table of every key, ending with a {NULL} entry. */
extern const es_config_key es_config_keys[];

typedef struct es_config es_config;

/* A configuration holding every default; NULL when out of memory. */
es_config *es_config_new(void);

void es_config_free(es_config *cfg);

/*
 * Reads a config file. On error returns -1 and writes a message naming the
 * file and line into err; values read before the error stay set.
 */
int es_config_load_file(es_config *cfg, const char *path, char *err,
                        size_t errlen);

/* Applies ECHOSTREAM_* variables from envp (NULL-terminated "K=V" list). */
void es_config_apply_env(es_config *cfg, char *const *envp);

/* Sets a key; -1 when the key is unknown or memory runs out. */
int es_config_set(es_config *cfg, const char *key, const char *value,
                  const char *source);

/* The value of a declared key (borrowed, never NULL). */
const char *es_config_str(const es_config *cfg, const char *key);

/* Where the value came from: "default", "file" or "env". */
const char *es_config_source(const es_config *cfg, const char *key);

/*
 * Typed getters: parse the value, check it lies in [min, max], and on failure
 * return -1 with a message naming the key and the variable that overrides it.
 */
int es_config_int(const es_config *cfg, const char *key, long long min,
                  long long max, long long *out, char *err, size_t errlen);
int es_config_double(const es_config *cfg, const char *key, double min,
                     double max, double *out, char *err, size_t errlen);
int es_config_bool(const es_config *cfg, const char *key, int *out, char *err,
                   size_t errlen);

/* Writes the environment variable name for key into buf. */
void es_config_env_name(const char *key, char *buf, size_t size);

/*
 * Prints every key whose name starts with one of the prefixes (a
 * NULL-terminated list; NULL prints all) with its current value, source and
 * help; secret values print as "(set)" or "(unset)".
 */
void es_config_print(const es_config *cfg, const char *const *prefixes,
                     void *stream);

/*
 * v for people to read: a Redis URL's password (redis:// or unix://,
 * found as es_redis_url_auth_end finds it) replaced by "***", so help and
 * messages never show it; anything else unchanged. Cut to size.
 */
void es_config_redact(const char *v, char *out, size_t size);

#endif
