/*
 * summary_fuzz.c - the summarizer's two writers of comment text, the
 * Bedrock prompt (workers/summarize/prompt.c) and the local brief
 * (extract.c), over hostile comment bodies, authors and terms.
 *
 * Comment text is written by anyone on Reddit and arrives here as enrich
 * stored it (valid UTF-8, repaired as ingest repairs it). The invariants
 * the summarizer relies on: every comment travels in exactly one
 * <comment> block that its text cannot close or open (no raw '<' or '>'
 * from a body survives), and both texts stay valid UTF-8 whatever was cut.
 */
#include "extract.h"
#include "fuzz.h"
#include "prompt.h"

#include "es_utf8.h"

#define PARTS 4

/* The next '\x1f'-separated part of the input, repaired to UTF-8. */
static char *part(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p, *e = memchr(s, 0x1f, (size_t)(end - s));
    size_t n, cap;
    char *out;

    e = e ? e : end;
    n = (size_t)(e - s);
    cap = n * 3 + 1;
    out = malloc(cap);
    if (out == NULL) {
        abort();
    }
    out[es_utf8_repair((const char *)s, n, out, cap)] = '\0';
    *p = e < end ? e + 1 : end;
    return out;
}

/* The longest prefix of s that fits size bytes, cut at a character. */
static void copy_cut(char *dst, size_t size, const char *s)
{
    size_t k = es_utf8_cut(s, strlen(s), size - 1);

    memcpy(dst, s, k);
    dst[k] = '\0';
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *q = strstr(s, needle); q; q = strstr(q + 1, needle)) {
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    es_sum_comment cs[PARTS];
    es_sum_topic topic;
    es_sum_figures f;
    char *bodies[PARTS], *user, *text;

    memset(&f, 0, sizeof(f));
    memset(&topic, 0, sizeof(topic));
    memset(cs, 0, sizeof(cs));
    strcpy(topic.id, "t");
    strcpy(topic.name, "Topic");
    f.topics = &topic;
    f.ntopics = 1;
    f.now = (es_sum_counts){size, size / 2, size / 3, size / 5, 1, -7};
    f.before = (es_sum_counts){size / 2, 1, size / 4, 0, 0, 3};
    for (size_t i = 0; i < PARTS; i++) {
        bodies[i] = part(&p, end);
        cs[i].role = (es_sum_role)(i % 4);
        cs[i].body = bodies[i];
        cs[i].compound = i % 2 ? 0.5 : -0.5;
        cs[i].cut = (int)(i % 2);
        copy_cut(cs[i].author, sizeof(cs[i].author), bodies[i]);
        copy_cut(cs[i].terms[0], 11, bodies[0]);
        cs[i].nterms = 1;
    }
    snprintf(f.terms[0].term, sizeof(f.terms[0].term), "%s", cs[0].terms[0]);
    f.terms[0].count = 3;
    f.terms[0].before = size % 2 ? -1 : 1;
    f.nterms = 1;
    f.comments = cs;
    f.ncomments = PARTS;

    user = es_sum_user_prompt(&f, bodies[1], "today", "yesterday");
    text = es_sum_local_text(&f, bodies[2], "today", "yesterday");
    ES_FUZZ_CHECK(user != NULL && text != NULL);
    ES_FUZZ_CHECK(count(user, "<comment ") == PARTS);
    ES_FUZZ_CHECK(count(user, "</comment>") == PARTS);
    /* the markup is the prompt's own: '<' only opens or closes a block */
    for (const char *q = strchr(user, '<'); q; q = strchr(q + 1, '<')) {
        ES_FUZZ_CHECK(strncmp(q, "<comment ", 9) == 0 ||
                      strncmp(q, "</comment>", 10) == 0);
    }
    ES_FUZZ_CHECK(es_utf8_valid(user, strlen(user)));
    ES_FUZZ_CHECK(es_utf8_valid(text, strlen(text)));
    free(user);
    free(text);
    for (size_t i = 0; i < PARTS; i++) {
        free(bodies[i]);
    }
    return 0;
}
