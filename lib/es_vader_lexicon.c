/*
 * es_vader_lexicon.c - the VADER word table: loading the lexicon file,
 * merging NLTK's word lists into it, and finding the default file.
 *
 * The file is read the way NLTK's make_lex_dict reads it: lines split on
 * '\n', each stripped of white space and split on tabs, the first field the
 * token and the second its mean valence; a later line for the same token
 * replaces an earlier one. Unlike NLTK, a trailing newline (an empty last
 * line) is tolerated. While loading, the words go into an open-addressing
 * dictionary; once all are in, the lookup table is built from it as a
 * perfect hash (see es_vader_int.h and build_phf) and the dictionary is
 * freed. The table is never written again, so it is shared by every thread
 * without locks. Keys are stored in the arena 8-aligned and zero-padded,
 * the form es_vader_key_hash reads, so both tables are hashed straight
 * from the arena.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "es_utf8.h"
#include "es_vader_int.h"

typedef struct {
    const char *word;
    uint8_t flags, lw, cs;
} fixed_word;

/* NLTK 3.8 VaderConstants: NEGATE, BOOSTER_DICT and the literal words */
static const char *const negate_words[] = {
    "aint",    "arent",    "cannot",  "cant",     "couldnt",  "darent",
    "didnt",   "doesnt",   "ain't",   "aren't",   "can't",    "couldn't",
    "daren't", "didn't",   "doesn't", "dont",     "hadnt",    "hasnt",
    "havent",  "isnt",     "mightnt", "mustnt",   "neither",  "don't",
    "hadn't",  "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",
    "neednt",  "needn't",  "never",   "none",     "nope",     "nor",
    "not",     "nothing",  "nowhere", "oughtnt",  "shant",    "shouldnt",
    "uhuh",    "wasnt",    "werent",  "oughtn't", "shan't",   "shouldn't",
    "uh-uh",   "wasn't",   "weren't", "without",  "wont",     "wouldnt",
    "won't",   "wouldn't", "rarely",  "seldom",   "despite"};

static const char *const boost_words[] = {
    "absolutely",   "amazingly",     "awfully",      "completely",
    "considerably", "decidedly",     "deeply",       "effing",
    "enormously",   "entirely",      "especially",   "exceptionally",
    "extremely",    "fabulously",    "flipping",     "flippin",
    "fricking",     "frickin",       "frigging",     "friggin",
    "fully",        "fucking",       "greatly",      "hella",
    "highly",       "hugely",        "incredibly",   "intensely",
    "majorly",      "more",          "most",         "particularly",
    "purely",       "quite",         "really",       "remarkably",
    "so",           "substantially", "thoroughly",   "totally",
    "tremendously", "uber",          "unbelievably", "unusually",
    "utterly",      "very"};

/* the multi-word ones ("kind of", "sort of", "just enough") are idioms */
static const char *const dampen_words[] = {
    "almost",   "barely",   "hardly",     "kinda",        "kindof", "kind-of",
    "less",     "little",   "marginally", "occasionally", "partly", "scarcely",
    "slightly", "somewhat", "sorta",      "sortof",       "sort-of"};

static const fixed_word literal_words[] = {
    {"kind", 0, ES_VL_KIND, ES_VC_KIND},
    {"of", 0, ES_VL_OF, ES_VC_OF},
    {"least", 0, ES_VL_LEAST, 0},
    {"at", 0, ES_VL_AT, 0},
    {"very", 0, ES_VL_VERY, 0},
    {"but", 0, ES_VL_BUT, 0},
    {"never", 0, 0, ES_VC_NEVER},
    {"so", 0, 0, ES_VC_SO},
    {"this", 0, 0, ES_VC_THIS},
    {"the", 0, 0, ES_VC_THE},
    {"shit", 0, 0, ES_VC_SHIT},
    {"bomb", 0, 0, ES_VC_BOMB},
    {"bad", 0, 0, ES_VC_BAD},
    {"ass", 0, 0, ES_VC_ASS},
    {"yeah", 0, 0, ES_VC_YEAH},
    {"right", 0, 0, ES_VC_RIGHT},
    {"cut", 0, 0, ES_VC_CUT},
    {"mustard", 0, 0, ES_VC_MUSTARD},
    {"kiss", 0, 0, ES_VC_KISS},
    {"death", 0, 0, ES_VC_DEATH},
    {"hand", 0, 0, ES_VC_HAND},
    {"to", 0, 0, ES_VC_TO},
    {"mouth", 0, 0, ES_VC_MOUTH},
    {"just", 0, 0, ES_VC_JUST},
    {"enough", 0, 0, ES_VC_ENOUGH},
    {"sort", 0, 0, ES_VC_SORT},
};

/* The 64 bits at s, in the byte order of a little-endian load. */
static uint64_t load64(const char *s)
{
    uint64_t w;

    memcpy(&w, s, 8);
    return w;
}

static uint64_t load32(const char *s)
{
    uint32_t w;

    memcpy(&w, s, 4);
    return w;
}

uint64_t es_vader_hash(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ull * (n + 1)), w;
    size_t i = 0;

    while (i + 8 <= n) {
        h = (h ^ load64(s + i)) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        i += 8;
    }
    /*
     * the last bytes (fewer than 8) without a copy of variable length:
     * loads that overlap, which still see every byte (n is in the hash)
     */
    if (i < n) {
        if (n >= 8) {
            w = load64(s + n - 8);
        } else if (n >= 4) {
            w = load32(s) | load32(s + n - 4) << 32;
        } else {
            w = (uint64_t)(unsigned char)s[0] |
                (uint64_t)(unsigned char)s[n / 2] << 8 |
                (uint64_t)(unsigned char)s[n - 1] << 16;
        }
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* what es_vader_find gives for a word that is no key (all zero) */
const es_vader_entry es_vader_none;

/* Room a key of n bytes takes in the arena (see es_vader_int.h). */
static size_t padded_len(size_t n)
{
    size_t r = (n + 7) & ~(size_t)7;

    return r < 16 ? 16 : r;
}

/* Index of the dictionary slot holding the arena key at off, or of the
 * empty slot where it belongs. */
static size_t probe(const es_vader *v, const es_vader_entry *slots, size_t mask,
                    size_t off, size_t n)
{
    const char *key = v->arena + off;
    size_t i = es_vader_hash(key, n, 0) & mask;

    for (;;) {
        const es_vader_entry *e = &slots[i];

        if (e->len == 0 ||
            (e->len == n && memcmp(v->arena + e->off, key, n) == 0)) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Doubles the dictionary. -1 when out of memory. */
static int grow(es_vader *v)
{
    size_t ncap = (v->build_mask + 1) * 2, j;
    es_vader_entry *ns = calloc(ncap, sizeof(*ns));

    if (ns == NULL) {
        return -1;
    }
    for (j = 0; j <= v->build_mask; j++) {
        const es_vader_entry *e = &v->build[j];

        if (e->len != 0) {
            ns[probe(v, ns, ncap - 1, e->off, e->len)] = *e;
        }
    }
    free(v->build);
    v->build = ns;
    v->build_mask = ncap - 1;
    return 0;
}

/* The entry for key, created empty when missing; NULL when out of memory. */
static es_vader_entry *upsert(es_vader *v, const char *key, size_t n)
{
    size_t need = padded_len(n), off = (v->arena_len + 7) & ~(size_t)7, i;
    es_vader_entry *e;

    if (n == 0 || n > UINT16_MAX) {
        return NULL;
    }
    if (n > ES_VADER_KEY_MAX) {
        /* no token is looked up with so long a key: kept only as the
           longest key, which caps the lookups at ES_VADER_KEY_MAX */
        v->max_key = n > v->max_key ? n : v->max_key;
        return &v->spill;
    }
    if ((v->count + 1) * 2 > v->build_mask + 1 && grow(v) < 0) {
        return NULL;
    }
    if (off + need > v->arena_cap) {
        size_t ncap = (off + need) * 2;
        char *na;

        if (ncap > UINT32_MAX) {
            return NULL;
        }
        na = realloc(v->arena, ncap);
        if (na == NULL) {
            return NULL;
        }
        v->arena = na;
        v->arena_cap = ncap;
    }
    /* the key goes to the arena first: the probe hashes it there */
    memset(v->arena + off, 0, need);
    memcpy(v->arena + off, key, n);
    i = probe(v, v->build, v->build_mask, off, n);
    e = &v->build[i];
    if (e->len != 0) {
        return e; /* already there; the arena copy is dropped */
    }
    memcpy(&e->k0, v->arena + off, 8);
    memcpy(&e->k1, v->arena + off + 8, 8);
    e->off = (uint32_t)off;
    e->len = (uint8_t)n;
    v->arena_len = off + need;
    v->count++;
    if (n > v->max_key) {
        v->max_key = n;
    }
    return e;
}

/* es_vader_key_hash of the arena key of entry e under seed. */
static uint64_t entry_hash(const es_vader *v, const es_vader_entry *e,
                           uint64_t seed)
{
    return es_vader_key_hash(seed, e->k0, e->k1, v->arena + e->off, e->len);
}

/*
 * One attempt at the perfect hash of the dictionary's count keys into
 * mask + 1 slots with 2^bbits buckets and the given seed: buckets are
 * placed largest first, each at the first displacement that puts all its
 * keys into free slots. 0 on success (v->slots, disp, mask, bshift, hseed
 * set), 1 when some bucket found no room (or two keys of a bucket always
 * collide: a new seed fixes that), -1 when out of memory.
 */
static int try_phf(es_vader *v, uint64_t mask, unsigned bbits, uint64_t seed)
{
    size_t nb = (size_t)1 << bbits, i, j, k, nkeys = v->count;
    unsigned bshift = 64 - bbits;
    uint64_t *hs = malloc(nkeys * sizeof(*hs));
    uint64_t *bh = malloc(nkeys * sizeof(*bh)); /* hs grouped by bucket */
    uint32_t *key_of = malloc(nkeys * sizeof(*key_of));
    uint32_t *start = calloc(nb + 1, sizeof(*start));
    uint32_t *order = malloc(nb * sizeof(*order));
    uint32_t *size_start = NULL, *disp = calloc(nb, sizeof(*disp));
    uint64_t *pos = malloc(nkeys * sizeof(*pos));
    unsigned char *used = calloc(mask + 1, 1);
    es_vader_entry *slots = aligned_alloc(64, (mask + 1) * sizeof(*slots));
    size_t max_size = 0;
    int rc = -1;

    if (hs == NULL || bh == NULL || key_of == NULL || start == NULL ||
        order == NULL || disp == NULL || pos == NULL || used == NULL ||
        slots == NULL) {
        goto cleanup;
    }
    memset(slots, 0, (mask + 1) * sizeof(*slots));
    /* the keys' hashes, grouped by bucket (a counting sort) */
    for (i = 0, k = 0; i <= v->build_mask; i++) {
        if (v->build[i].len != 0) {
            hs[k] = entry_hash(v, &v->build[i], seed);
            start[(hs[k] >> bshift) + 1]++;
            k++;
        }
    }
    for (j = 0; j < nb; j++) {
        size_t sz = start[j + 1];

        max_size = sz > max_size ? sz : max_size;
        start[j + 1] += start[j];
    }
    {
        uint32_t *fill = malloc(nb * sizeof(*fill));

        if (fill == NULL) {
            goto cleanup;
        }
        memcpy(fill, start, nb * sizeof(*fill));
        for (i = 0, k = 0; i <= v->build_mask; i++) {
            if (v->build[i].len != 0) {
                size_t at = fill[hs[k] >> bshift]++;

                key_of[at] = (uint32_t)i;
                bh[at] = hs[k];
                k++;
            }
        }
        free(fill);
    }
    /* the buckets by decreasing size (a counting sort on the size) */
    size_start = calloc(max_size + 2, sizeof(*size_start));
    if (size_start == NULL) {
        goto cleanup;
    }
    for (j = 0; j < nb; j++) {
        size_start[max_size - (start[j + 1] - start[j]) + 1]++;
    }
    for (j = 0; j <= max_size; j++) {
        size_start[j + 1] += size_start[j];
    }
    for (j = 0; j < nb; j++) {
        order[size_start[max_size - (start[j + 1] - start[j])]++] = (uint32_t)j;
    }
    rc = 1;
    for (j = 0; j < nb; j++) {
        uint32_t b = order[j], n = start[b + 1] - start[b];
        uint64_t d;

        if (n == 0) {
            break; /* the rest are empty too */
        }
        for (d = 0; d <= mask; d++) {
            size_t placed;

            for (placed = 0; placed < n; placed++) {
                uint64_t h = bh[start[b] + placed];
                uint64_t h1 = h & 0xffffffffu, h2 = ((h >> 32) & 0xffffu) | 1;
                uint64_t s = (h1 + d * h2) & mask;

                if (used[s]) {
                    break;
                }
                used[s] = 1;
                pos[placed] = s;
            }
            if (placed == n) {
                break;
            }
            while (placed > 0) {
                used[pos[--placed]] = 0;
            }
        }
        if (d > mask) {
            goto cleanup;
        }
        disp[b] = (uint32_t)d;
        for (k = 0; k < n; k++) {
            slots[pos[k]] = v->build[key_of[start[b] + k]];
        }
    }
    v->slots = slots;
    v->disp = disp;
    v->mask = mask;
    v->bshift = bshift;
    v->hseed = seed;
    slots = NULL;
    disp = NULL;
    rc = 0;

cleanup:
    free(hs);
    free(bh);
    free(key_of);
    free(start);
    free(order);
    free(size_start);
    free(disp);
    free(pos);
    free(used);
    free(slots);
    return rc;
}

/*
 * Builds the lookup table from the dictionary: slots for a load of at most
 * 15/16, a bucket per 4 keys; a new seed when an attempt fails, twice the
 * slots after a few. -1 when out of memory.
 */
static int build_phf(es_vader *v)
{
    uint64_t mask = 15, seed = 0x2545f4914f6cdd1dull;
    unsigned bbits = 1, attempt;

    while ((mask + 1) * 15 / 16 < v->count) {
        mask = mask * 2 + 1;
    }
    while (((size_t)1 << bbits) * 4 < v->count && bbits < 32) {
        bbits++;
    }
    for (attempt = 0;; attempt++) {
        int rc = try_phf(v, mask, bbits, seed);

        if (rc <= 0) {
            return rc;
        }
        seed = seed * 0x5851f42d4c957f2dull + 0x14057b7ef767814full;
        if (attempt % 4 == 3) {
            mask = mask * 2 + 1;
        }
    }
}

static int add_fixed(es_vader *v, const char *w, uint8_t flags, uint8_t lw,
                     uint8_t cs)
{
    es_vader_entry *e = upsert(v, w, strlen(w));

    if (e == NULL) {
        return -1;
    }
    e->flags |= flags;
    if (lw != 0) {
        e->lw = lw;
    }
    if (cs != 0) {
        e->cs = cs;
    }
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Parses one line; -1 with a reason in err. */
static int parse_line(es_vader *v, char *line, size_t n, size_t lineno,
                      char *err, size_t errlen)
{
    char *tab, *end, *num_end;
    size_t wlen;
    double val;
    es_vader_entry *e;

    while (n > 0 && is_ws(line[n - 1])) {
        n--;
    }
    while (n > 0 && is_ws(line[0])) {
        line++;
        n--;
    }
    line[n] = '\0';
    tab = memchr(line, '\t', n);
    if (tab == NULL) {
        snprintf(err, errlen, "line %zu: no tab-separated valence", lineno);
        return -1;
    }
    wlen = (size_t)(tab - line);
    end = memchr(tab + 1, '\t', n - wlen - 1);
    if (end != NULL) {
        *end = '\0';
    }
    errno = 0;
    val = strtod(tab + 1, &num_end);
    while (is_ws(*num_end)) {
        num_end++;
    }
    if (errno != 0 || num_end == tab + 1 || *num_end != '\0') {
        snprintf(err, errlen, "line %zu: bad valence", lineno);
        return -1;
    }
    if (!es_utf8_valid(line, wlen)) {
        snprintf(err, errlen, "line %zu: token is not UTF-8", lineno);
        return -1;
    }
    if (wlen == 0) {
        return 0; /* no token can ever be empty */
    }
    e = upsert(v, line, wlen);
    if (e == NULL) {
        snprintf(err, errlen, "line %zu: out of memory", lineno);
        return -1;
    }
    e->flags |= ES_VW_LEX;
    e->val = val;
    return 0;
}

static int read_file(const char *path, char **out, size_t *len, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;

        if (cap - n < 65536) {
            char *nb;

            cap = cap * 2 + 65536;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto error;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto error;
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;

error:
    fclose(f);
    free(buf);
    return -1;
}

es_vader *es_vader_load(const char *lexicon_path, char *err, size_t errlen)
{
    es_vader *v = NULL;
    char *buf = NULL, *p, *end, msg[256];
    size_t len, lineno = 0, i;

    if (read_file(lexicon_path, &buf, &len, err, errlen) < 0) {
        return NULL;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    v->build_mask = 16383;
    v->build = calloc(v->build_mask + 1, sizeof(*v->build));
    if (v->build == NULL) {
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    if (getrandom(&v->seed, sizeof(v->seed), GRND_NONBLOCK) !=
        (ssize_t)sizeof(v->seed)) {
        v->seed = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)v << 16);
    }
    p = buf;
    end = buf + len;
    while (p <= end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

        lineno++;
        if (nl == NULL && n == 0 && lineno > 1) {
            break; /* a trailing newline */
        }
        if (parse_line(v, p, n, lineno, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s: %s", lexicon_path, msg);
            goto error;
        }
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    for (i = 0; i < sizeof(negate_words) / sizeof(negate_words[0]); i++) {
        if (add_fixed(v, negate_words[i], ES_VW_NEGATE, 0, 0) < 0) {
            goto oom;
        }
    }
    for (i = 0; i < sizeof(boost_words) / sizeof(boost_words[0]); i++) {
        if (add_fixed(v, boost_words[i], ES_VW_BOOST, 0, 0) < 0) {
            goto oom;
        }
    }
    for (i = 0; i < sizeof(dampen_words) / sizeof(dampen_words[0]); i++) {
        if (add_fixed(v, dampen_words[i], ES_VW_DAMPEN, 0, 0) < 0) {
            goto oom;
        }
    }
    for (i = 0; i < sizeof(literal_words) / sizeof(literal_words[0]); i++) {
        const fixed_word *w = &literal_words[i];

        if (add_fixed(v, w->word, w->flags, w->lw, w->cs) < 0) {
            goto oom;
        }
    }
    v->key_cap = v->max_key < ES_VADER_KEY_MAX ? v->max_key : ES_VADER_KEY_MAX;
    if (build_phf(v) < 0 || es_vader_case_build(v) < 0) {
        goto oom;
    }
    free(v->build);
    v->build = NULL;
    free(buf);
    return v;

oom:
    snprintf(err, errlen, "out of memory");
error:
    free(buf);
    es_vader_free(v);
    return NULL;
}

void es_vader_free(es_vader *v)
{
    if (v == NULL) {
        return;
    }
    free(v->disp);
    free(v->slots);
    free(v->case1);
    free(v->case2);
    free(v->build);
    free(v->arena);
    free(v);
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

const char *es_vader_default_lexicon(void)
{
    static char path[4096];
    static const char *const rel[] = {"/../../lib/data/vader_lexicon.txt",
                                      "/../share/echostream/vader_lexicon.txt"};
    const char *env = getenv("ECHOSTREAM_VADER_LEXICON");
    char exe[2048];
    ssize_t n;
    size_t i;

    if (env != NULL && env[0] != '\0') {
        return env;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
                int w = snprintf(path, sizeof(path), "%s%s", exe, rel[i]);

                if (w > 0 && (size_t)w < sizeof(path) && readable(path)) {
                    return path;
                }
            }
        }
    }
    return "lib/data/vader_lexicon.txt";
}
