/*
 * luagen.c - turns one Redis function library of lib/redis/ into C.
 *
 *   luagen FILE_NAME IN.lua OUT.c OUT.lua SHARED.lua
 *
 * IN.lua starts with "#!lua name=<library>" and "-- version: <N>". The
 * library Redis gets (written to OUT.lua, for tests that load it as the
 * programs do, and embedded in OUT.c as es_lua_<FILE_NAME>, an es_lua_lib)
 * is: the shebang line; a prelude "local ES = {...}" holding every schema
 * constant of es_schema.h, as ES.KEY the formats of every tenant key of
 * es_keys.h (after the tenant's prefix), as ES.USAGE the fields of the
 * monthly usage hash (es_schema.h), and as ES.TOMBSTONE the text of the
 * record a deletion leaves, made of the member name of es_record.h, so
 * Lua and C read one table; SHARED.lua (lib/redis/prelude/shared.lua:
 * the helpers every library uses, as fields of ES); the rest of the file,
 * unchanged (its line numbers in Redis errors are the file's plus the
 * prelude's); and a last function "<library>_version" answering N, which
 * the loaders ask before they load (es_lua.h).
 *
 * A build tool, run on the build machine only: it exits non-zero with a
 * message naming the file on anything unexpected, and the build stops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_comment.h"
#include "es_keys.h"
#include "es_record.h"
#include "es_schema.h"

#define MAX_LUA (1024 * 1024)

static const char *in_path;

static void die(const char *msg)
{
    fprintf(stderr, "luagen: %s: %s\n", in_path, msg);
    exit(1);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) {
        die("cannot open");
    }
    buf = malloc(MAX_LUA + 1);
    if (buf == NULL) {
        die("out of memory");
    }
    n = fread(buf, 1, MAX_LUA + 1, f);
    if (ferror(f) || n > MAX_LUA) {
        die("cannot read, or larger than 1 MiB");
    }
    fclose(f);
    buf[n] = '\0';
    if (strlen(buf) != n) {
        die("holds a NUL byte");
    }
    *len = n;
    return buf;
}

/* The library Redis gets, into a new string. */
static char *assemble(const char *src, const char *shared, char *lib,
                      size_t lib_size, long *version)
{
    const char *nl, *rest;
    size_t cap, n;
    char *out, *end;
    int used;

    nl = strchr(src, '\n');
    if (strncmp(src, "#!lua name=", 11) != 0 || nl == NULL ||
        (size_t)(nl - src - 11) >= lib_size || nl - src - 11 < 1) {
        die("the first line must be \"#!lua name=<library>\"");
    }
    memcpy(lib, src + 11, (size_t)(nl - src - 11));
    lib[nl - src - 11] = '\0';
    for (n = 0; lib[n] != '\0'; n++) {
        if (!((lib[n] >= 'a' && lib[n] <= 'z') || lib[n] == '_')) {
            die("the library name must be of a-z and '_'");
        }
    }

    rest = nl + 1;
    if (strncmp(rest, "-- version: ", 12) != 0) {
        die("the second line must be \"-- version: <N>\"");
    }
    *version = strtol(rest + 12, &end, 10);
    if (*version < 1 || *version > 999999 || *end != '\n') {
        die("the version must be a whole number from 1 to 999999");
    }

    cap = strlen(src) + strlen(shared) + 8192;
    out = malloc(cap);
    if (out == NULL) {
        die("out of memory");
    }
    used = snprintf(out, cap, "#!lua name=%s\nlocal ES = {\n", lib);

#define ES_LUAGEN_CONST_(name, value, what)                                    \
    used += snprintf(out + used, cap - (size_t)used, "  %s = %ld, -- %s\n",    \
                     #name, (long)(value), what);
    ES_SCHEMA_CONSTANTS(ES_LUAGEN_CONST_)
#undef ES_LUAGEN_CONST_

    used += snprintf(out + used, cap - (size_t)used,
                     "  TENANT_PREFIX = '%s',\n  KEY = {\n",
                     ES_KEY_TENANT_PREFIX_FMT);
#define ES_LUAGEN_KEY_(name, format, pattern)                                  \
    used += snprintf(out + used, cap - (size_t)used,                           \
                     "    %s = '%s', -- es:{t:<tenant>}:%s\n", #name, format,  \
                     pattern);
    ES_TENANT_KEYS(ES_LUAGEN_KEY_)
#undef ES_LUAGEN_KEY_

    /* the comment stream's field names and entry types (es_comment.h),
       the per-comment record's tombstone (es_record.h) */
    used += snprintf(out + used, cap - (size_t)used,
                     "  },\n  F = {TYPE = '%s', ID = '%s', SUBREDDIT = '%s', "
                     "SOURCE = '%s'},\n  TYPE = {COMMENT = '%s', DELETE = "
                     "'%s'},\n  TOMBSTONE = '{\"%s\":true}', -- the record "
                     "a deletion leaves\n",
                     ES_F_TYPE, ES_F_ID, ES_F_SUBREDDIT, ES_F_SOURCE,
                     ES_TYPE_COMMENT, ES_TYPE_DELETE, ES_REC(DELETED));

    /* the per-comment record (es_record.h): its JSON members, the fields
       of its stored parts (1-based), the letters of labels and engines */
    used += snprintf(out + used, cap - (size_t)used, "  REC = {\n");
#define ES_LUAGEN_REC_(name, member, type, meaning)                            \
    used += snprintf(out + used, cap - (size_t)used, "    %s = '%s',\n",       \
                     #name, member);
    ES_RECORD_MEMBERS(ES_LUAGEN_REC_)
#undef ES_LUAGEN_REC_
    used += snprintf(out + used, cap - (size_t)used, "  },\n  RT = {");
#define ES_LUAGEN_RT_(name, meaning)                                           \
    used += snprintf(out + used, cap - (size_t)used, " %s = %d,", #name,       \
                     (int)ES_RT_##name + 1);
    ES_RECORD_TENANT_FIELDS(ES_LUAGEN_RT_)
#undef ES_LUAGEN_RT_
    used += snprintf(out + used, cap - (size_t)used, " },\n  RP = {");
#define ES_LUAGEN_RP_(name, meaning)                                           \
    used += snprintf(out + used, cap - (size_t)used, " %s = %d,", #name,       \
                     (int)ES_RP_##name + 1);
    ES_RECORD_PUBLIC_FIELDS(ES_LUAGEN_RP_)
#undef ES_LUAGEN_RP_
    used += snprintf(out + used, cap - (size_t)used, " },\n  LABELS = {");
#define ES_LUAGEN_LETTER_(letter, name)                                        \
    used +=                                                                    \
        snprintf(out + used, cap - (size_t)used, " %c = '%s',", letter, name);
    ES_RECORD_LABELS(ES_LUAGEN_LETTER_)
    used += snprintf(out + used, cap - (size_t)used, " },\n  ENGINES = {");
    ES_RECORD_ENGINES(ES_LUAGEN_LETTER_)
#undef ES_LUAGEN_LETTER_
    used += snprintf(out + used, cap - (size_t)used,
                     " },\n  SEP = '\\31', GONE = '%s', LONG = '\\29',\n"
                     "  PUBLIC = '%s', PUBLIC_SPLIT = '%s',\n  USAGE = {\n",
                     ES_RECORD_GONE, ES_KEY_PUBLIC_PREFIX,
                     ES_KEY_PUBLIC_SPLIT_PREFIX);

    /* the usage hash's fields (es_schema.h) */
#define ES_LUAGEN_USAGE_(name, field)                                          \
    used += snprintf(out + used, cap - (size_t)used, "    %s = '%s',\n",       \
                     #name, field);
    ES_USAGE_FIELDS(ES_LUAGEN_USAGE_)
#undef ES_LUAGEN_USAGE_

    used +=
        snprintf(out + used, cap - (size_t)used, "  },\n}\n%s%s", shared, rest);
    used += snprintf(out + used, cap - (size_t)used,
                     "\nredis.register_function{function_name = "
                     "'%s_version',\n  callback = function() return %ld "
                     "end, flags = {'no-writes'}}\n",
                     lib, *version);
    if ((size_t)used >= cap) {
        die("library too large");
    }
    return out;
}

static void write_c(const char *path, const char *file, const char *lib,
                    long version, const char *code)
{
    FILE *f = fopen(path, "w");
    const char *p;

    if (f == NULL) {
        die("cannot write the C file");
    }
    fprintf(f,
            "/* es_lua_%s.c - written by lib/redis/luagen.c from "
            "lib/redis/%s.lua; edit that file, not this one. */\n"
            "#include \"es_lua.h\"\n\n"
            "static const char code[] =\n",
            file, file);
    fputs("    \"", f);
    for (p = code; *p != '\0'; p++) {
        switch (*p) {
        case '\n':
            fputs(p[1] != '\0' ? "\\n\"\n    \"" : "\\n", f);
            break;
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '?':
            fputs("\\?", f); /* no trigraphs */
            break;
        default:
            if ((unsigned char)*p < 0x20 && *p != '\t') {
                die("holds a control character");
            }
            fputc(*p, f);
        }
    }
    fputs("\";\n\n", f);
    fprintf(f,
            "const es_lua_lib es_lua_%s = {\"%s\", \"%s_version\", code,\n"
            "                              sizeof(code) - 1, %ldL};\n",
            file, lib, lib, version);
    if (fclose(f) != 0) {
        die("cannot write the C file");
    }
}

int main(int argc, char **argv)
{
    char lib[64], *src, *shared, *code;
    long version;
    size_t len;
    FILE *f;

    if (argc != 6) {
        fprintf(stderr,
                "usage: luagen FILE_NAME IN.lua OUT.c OUT.lua SHARED.lua\n");
        return 2;
    }
    in_path = argv[5];
    shared = slurp(argv[5], &len);
    in_path = argv[2];
    src = slurp(argv[2], &len);
    code = assemble(src, shared, lib, sizeof(lib), &version);

    write_c(argv[3], argv[1], lib, version, code);

    f = fopen(argv[4], "w");
    if (f == NULL || fputs(code, f) == EOF || fclose(f) != 0) {
        die("cannot write the Lua file");
    }

    free(src);
    free(shared);
    free(code);
    return 0;
}
