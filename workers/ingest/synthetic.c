/*
 * synthetic.c - generated comment stream (see synthetic.h).
 *
 * Popularity follows a Zipf law (weight 1/rank^1.1) for subreddits and
 * authors, as on Reddit a few subreddits and posters produce most comments.
 * Bodies are one to three short sentences, sometimes a long rant, built from
 * word lists: an opener, a subject, optional negation and intensifier, an
 * adjective whose polarity is drawn first (so sentiment stages see a real
 * mix), and a tail with punctuation or emoji. Pacing counts comments owed
 * since the start on the monotonic clock, so short stalls are caught up and
 * long ones (a slow Redis) reset the schedule instead of bursting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backfill.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "synthetic.h"
#include "watchlist.h"

#define MAX_SUBS  1024
#define N_AUTHORS 5000
#define BODY_SIZE 4096
#define COUNT(a)  (sizeof(a) / sizeof((a)[0]))

static const char *const fallback_subs[] = {
    "askreddit", "worldnews", "technology", "programming", "gaming",
    "movies",    "science",   "news",       "sports",      "music"};

static const char *const openers[] = {"",           "",
                                      "",           "Honestly, ",
                                      "I think ",   "Not gonna lie, ",
                                      "Imo ",       "To be fair, ",
                                      "Wow, ",      "Ugh, ",
                                      "Hot take: ", "Lol ",
                                      "Tbh ",       "Genuinely, ",
                                      "Okay so "};

static const char *const subjects[] = {
    "this update",    "the new patch",    "customer service",
    "their pricing",  "the battery life", "this movie",
    "the game",       "the dev team",     "this policy",
    "the ending",     "the new CEO",      "the app",
    "the team",       "this subreddit",   "the café downtown",
    "the soundtrack", "the new design",   "the delivery",
    "the naïve plan", "the interview",    "this thread",
    "the moderation", "the camera",       "the second season"};

static const char *const verbs[] = {"is", "was", "feels", "seems", "looks"};

static const char *const negations[] = {"not ", "never ", "hardly ",
                                        "not even "};

static const char *const intensifiers[] = {"",         "",
                                           "",         "really ",
                                           "so ",      "extremely ",
                                           "kind of ", "absolutely ",
                                           "pretty ",  "incredibly ",
                                           "VERY ",    "somewhat "};

static const char *const positive[] = {
    "great",      "amazing",   "good",      "brilliant", "fantastic",
    "solid",      "helpful",   "lovely",    "fun",       "excellent",
    "impressive", "wonderful", "refreshing"};

static const char *const negative[] = {
    "terrible",   "awful",    "bad",      "disappointing",
    "broken",     "useless",  "horrible", "boring",
    "overpriced", "annoying", "garbage",  "frustrating"};

static const char *const neutral[] = {"different", "okay",    "fine",
                                      "new",       "average", "unusual",
                                      "expected",  "normal"};

static const char *const tails[] = {
    ".",          ".",     ".",     "!",     "!!",  "...",
    "?",          " tbh.", " imo.", " lol.", " 😂",  " 🙄",
    " ❤️",    " 👍",    " 🔥",    " :)",   " :(", " — just saying.",
    " for real.", " 😡",    " 🎉"};

static const char *const extras[] = {"I've been using it for months.",
                                     "Anyone else notice that?",
                                     "Edit: typo.",
                                     "Source: I work in the industry.",
                                     "Thanks for sharing!",
                                     "Can't wait for the next one.",
                                     "Would not recommend.",
                                     "10/10 would buy again.",
                                     "Worst experience ever.",
                                     "Meh.",
                                     "This is the way.",
                                     "It’s “fine”, I guess.",
                                     "Über disappointing, to be honest.",
                                     "Ça ne marche pas, mais bon.",
                                     "Just my two cents.",
                                     "Can confirm.",
                                     "I don't hate it, I don't love it.",
                                     "Nobody asked for this.",
                                     "Best thing I've seen all week!",
                                     "日本でも人気です。",
                                     "Not bad at all, actually.",
                                     "Why is nobody talking about this?"};

static const char *const title_forms[] = {
    "What do you think about %s?", "[Discussion] %s megathread",
    "PSA: %s changed again",       "Is it just me or is %s getting worse?",
    "Appreciation post for %s",    "Daily discussion thread",
    "%s: first impressions",       "Unpopular opinion about %s"};

static const char *const syllables[] = {
    "ka",  "lo",   "mi",  "ra", "ten", "zu", "bo",  "shi", "an",  "el",
    "vor", "quin", "dex", "ly", "ma",  "ro", "sun", "fox", "owl", "byte"};

/* xorshift64*: fast, good enough for text, seeded per process */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

static size_t pick(uint64_t *s, size_t n)
{
    return (size_t)((next_rand(s) >> 11) % n);
}

static double uniform(uint64_t *s)
{
    return (double)(next_rand(s) >> 11) / 9007199254740992.0;
}

/* cumulative Zipf weights of n ranks, in cdf[0..n) (last = 1.0) */
static void zipf_build(double *cdf, size_t n)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += 1.0 / pow((double)(i + 1), 1.1);
        cdf[i] = sum;
    }
    for (size_t i = 0; i < n; i++) {
        cdf[i] /= sum;
    }
}

static size_t zipf_pick(uint64_t *s, const double *cdf, size_t n)
{
    double u = uniform(s);
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* appends text when it fits (whole pieces only, so UTF-8 stays valid) */
static void put(char *buf, size_t size, size_t *len, const char *text)
{
    size_t n = strlen(text);

    if (*len + n + 1 <= size) {
        memcpy(buf + *len, text, n);
        *len += n;
        buf[*len] = '\0';
    }
}

static void sentence(uint64_t *s, char *buf, size_t size, size_t *len)
{
    double mood = uniform(s);
    const char *adj;
    int negate = uniform(s) < 0.18;

    if (uniform(s) < 0.2) {
        put(buf, size, len, extras[pick(s, COUNT(extras))]);
        return;
    }
    if (mood < 0.4) {
        adj = positive[pick(s, COUNT(positive))];
    } else if (mood < 0.75) {
        adj = negative[pick(s, COUNT(negative))];
    } else {
        adj = neutral[pick(s, COUNT(neutral))];
    }
    put(buf, size, len, openers[pick(s, COUNT(openers))]);
    put(buf, size, len, subjects[pick(s, COUNT(subjects))]);
    put(buf, size, len, " ");
    put(buf, size, len, verbs[pick(s, COUNT(verbs))]);
    put(buf, size, len, " ");
    if (negate) {
        put(buf, size, len, negations[pick(s, COUNT(negations))]);
    }
    put(buf, size, len, intensifiers[pick(s, COUNT(intensifiers))]);
    put(buf, size, len, adj);
    put(buf, size, len, tails[pick(s, COUNT(tails))]);
}

size_t es_synthetic_body(uint64_t *rng, char *buf, size_t size)
{
    size_t len = 0;
    int n = 1 + (int)pick(rng, 3);

    if (size == 0) {
        return 0;
    }
    buf[0] = '\0';
    if (uniform(rng) < 0.05) {
        n = 5 + (int)pick(rng, 20); /* the occasional long rant */
    }
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            put(buf, size, &len, " ");
        }
        sentence(rng, buf, size, &len);
    }
    /* sentences start with a capital when the opener was empty */
    if (len > 0 && buf[0] >= 'a' && buf[0] <= 'z') {
        buf[0] = (char)(buf[0] - 'a' + 'A');
    }
    return len;
}

static void author_name(size_t idx, char *out, size_t size)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL * (idx + 1);
    size_t len = 0;
    char num[16];

    out[0] = '\0';
    next_rand(&s);
    put(out, size, &len, syllables[pick(&s, COUNT(syllables))]);
    put(out, size, &len, syllables[pick(&s, COUNT(syllables))]);
    if (pick(&s, 2)) {
        put(out, size, &len, "_");
    }
    put(out, size, &len, syllables[pick(&s, COUNT(syllables))]);
    if (pick(&s, 3)) {
        snprintf(num, sizeof(num), "%u", (unsigned)pick(&s, 10000));
        put(out, size, &len, num);
    }
}

static long long score_of(uint64_t *s)
{
    double u = uniform(s);

    if (u < 0.5) {
        return 1;
    }
    if (u < 0.8) {
        return 2 + (long long)pick(s, 9);
    }
    if (u < 0.95) {
        return 11 + (long long)pick(s, 190);
    }
    if (u < 0.99) {
        return 200 + (long long)pick(s, 4800);
    }
    return -1 - (long long)pick(s, 20);
}

typedef struct {
    char subs[MAX_SUBS][22];
    size_t nsubs;
    double sub_cdf[MAX_SUBS];
    double author_cdf[N_AUTHORS];
    uint64_t rng;
} gen_state;

static void set_subs(gen_state *g, const es_watchlist *wl)
{
    g->nsubs = 0;
    for (size_t i = 0; wl && i < es_watchlist_count(wl); i++) {
        const char *name = es_watchlist_name(wl, i);
        if (g->nsubs == MAX_SUBS || strcmp(name, "all") == 0) {
            continue;
        }
        snprintf(g->subs[g->nsubs++], sizeof(g->subs[0]), "%s", name);
    }
    if (g->nsubs == 0) {
        for (size_t i = 0; i < COUNT(fallback_subs); i++) {
            snprintf(g->subs[g->nsubs++], sizeof(g->subs[0]), "%s",
                     fallback_subs[i]);
        }
    }
    /* shuffle so popularity is not alphabetical */
    for (size_t i = g->nsubs; i > 1; i--) {
        size_t j = pick(&g->rng, i);
        char tmp[22];
        memcpy(tmp, g->subs[i - 1], sizeof(tmp));
        memcpy(g->subs[i - 1], g->subs[j], sizeof(tmp));
        memcpy(g->subs[j], tmp, sizeof(tmp));
    }
    zipf_build(g->sub_cdf, g->nsubs);
}

/* Generates comment number seq and queues it; es_sink_add's result. */
static int emit(gen_state *g, es_sink *sink, uint64_t seq)
{
    char id[16], link[20], author[48], body[BODY_SIZE], title[160];
    char permalink[128], subject[64];
    size_t si = zipf_pick(&g->rng, g->sub_cdf, g->nsubs);
    const char *sub = g->subs[si];
    es_comment c;

    es_comment_id_format(ES_SYNTH_ID_BASE + seq, id);
    memcpy(link, "t3_", 3);
    es_comment_id_format(ES_SYNTH_ID_BASE + si * 64 + pick(&g->rng, 40),
                         link + 3);
    author_name(zipf_pick(&g->rng, g->author_cdf, N_AUTHORS), author,
                sizeof(author));
    snprintf(subject, sizeof(subject), "%s",
             subjects[(si * 7 + strlen(link)) % COUNT(subjects)]);
    snprintf(title, sizeof(title),
             title_forms[(seq / 50 + si) % COUNT(title_forms)], subject);
    snprintf(permalink, sizeof(permalink), "/r/%s/comments/%s/_/%s/", sub,
             link + 3, id);

    memset(&c, 0, sizeof(c));
    c.id = (es_strv){id, strlen(id)};
    c.subreddit = (es_strv){sub, strlen(sub)};
    c.author = (es_strv){author, strlen(author)};
    c.body.s = body;
    c.body.n = es_synthetic_body(&g->rng, body, sizeof(body));
    c.permalink = (es_strv){permalink, strlen(permalink)};
    c.link_id = (es_strv){link, strlen(link)};
    c.link_title = (es_strv){title, strlen(title)};
    c.created_utc = (double)es_now_ms() / 1000.0;
    c.score = score_of(&g->rng);
    c.source = "synthetic";
    return es_sink_add(sink, &c);
}

/* Reserves n sequence numbers; the first one, or -1 (error or stopping). */
static long long reserve_ids(es_redis *r, long long n)
{
    redisReply *rep = es_redis_cmd(r, "INCRBY %s %lld", ES_KEY_SYNTH_SEQ, n);
    long long first = -1;

    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        first = rep->integer - n + 1;
    } else {
        es_log(ES_ERROR, "synthetic id counter failed",
               ES_STR("error", rep->type == REDIS_REPLY_ERROR
                                   ? rep->str
                                   : "unexpected reply"),
               ES_END);
    }
    freeReplyObject(rep);
    return first;
}

static void beat(es_heartbeat *hb, double rate, long long produced)
{
    json_t *status;

    if (hb == NULL) {
        return;
    }
    status = json_pack("{s:s, s:f, s:I}", "mode", "synthetic", "rate", rate,
                       "produced", (json_int_t)produced);
    es_heartbeat_tick(hb, status);
    json_decref(status);
}

int es_synthetic_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                     double rate)
{
    gen_state *g = calloc(1, sizeof(*g));
    es_watchlist *wl = es_watchlist_new();
    long long batch = 500, produced = 0, start, last_refresh;
    double refresh_s = 2;
    int rc = 0, lagging = 0, unflushed = 0;
    es_sink_stats stats;

    if (g == NULL || wl == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        rc = 1;
        goto cleanup;
    }
    if (w != NULL) {
        if (es_worker_cfg_int(w, "ingest.batch", 1, 100000, &batch) != 0 ||
            es_worker_cfg_double(w, "ingest.watch_refresh", 0.1, 3600,
                                 &refresh_s) != 0) {
            rc = 2;
            goto cleanup;
        }
    }
    g->rng = ((uint64_t)es_now_ms() << 20) ^ (uint64_t)getpid() ^
             0xD1B54A32D192ED03ULL;
    zipf_build(g->author_cdf, N_AUTHORS);
    if (es_watchlist_refresh(wl, r) < 0) {
        goto cleanup; /* stopping before anything was queued */
    }
    set_subs(g, wl);
    es_log(ES_INFO, "synthetic stream started", ES_DBL("rate", rate),
           ES_INT("subreddits", g->nsubs), ES_END);
    start = last_refresh = es_mono_ms();

    while (!es_stopping()) {
        long long now = es_mono_ms(), due, first, n;
        int add = 0, changed;

        es_worker_poll_reload(w);
        if (now - last_refresh >= (long long)(refresh_s * 1000)) {
            last_refresh = now;
            changed = es_watchlist_refresh(wl, r);
            if (changed < 0) {
                break;
            }
            if (changed > 0) {
                set_subs(g, wl);
            }
        }
        beat(hb, rate, produced);
        due = (long long)((double)(now - start) * rate / 1000.0) - produced;
        if (due > (long long)(rate * 5) + batch) {
            if (!lagging) {
                es_log(ES_WARN, "synthetic stream falling behind its rate",
                       ES_INT("owed", due), ES_END);
                lagging = 1;
            }
            start = now;
            produced = 0;
            due = 1;
        }
        if (due <= 0) {
            double next_ms =
                (double)(produced + 1) * 1000.0 / rate - (double)(now - start);
            es_sleep_ms(next_ms < 1     ? 1
                        : next_ms > 100 ? 100
                                        : (long long)next_ms);
            continue;
        }
        n = due < batch ? due : batch;
        first = reserve_ids(r, n);
        if (first < 0) {
            if (es_stopping()) {
                break;
            }
            es_sleep_ms(1000);
            continue;
        }
        /* a started batch is finished even after SIGTERM: its ids are
         * taken, so they are written rather than left as a gap */
        for (long long i = 0; i < n && add >= 0; i++) {
            add = emit(g, sink, (uint64_t)(first + i));
        }
        if (add < 0 || es_sink_flush(sink) != 0) {
            unflushed = 1;
            break;
        }
        produced += n;
    }
    if (!unflushed && es_sink_flush(sink) != 0) {
        unflushed = 1;
    }
    if (unflushed) {
        es_log(ES_WARN, "stopped before the last batch was written", ES_END);
    }
    stats = es_sink_get_stats(sink);
    es_log(ES_INFO, "synthetic stream stopped", ES_INT("added", stats.added),
           ES_INT("duplicates", stats.duplicates),
           ES_INT("rejected", stats.rejected), ES_END);

cleanup:
    es_watchlist_free(wl);
    free(g);
    return rc;
}
