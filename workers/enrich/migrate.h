/*
 * migrate.h - bringing the stored per-comment data from schema 1 to
 * schema 2 (docs/enrich.md, "Migration"), which the enrich worker does at
 * start, before it consumes, and echostream-enrich --migrate does alone.
 *
 * Schema 1 kept one JSON string es:{t:<tenant>}:c:<id> per comment and
 * tenant and sorted sets es:{t:<tenant>}:recent:<topic>[:<label>];
 * schema 2 keeps the compact parts in hour buckets and the recent entries
 * per topic and hour (lib/es_record.h). The migration reads every legacy
 * record (legacy.h), builds its two parts with the writers of the worker
 * (record.h) and hands a chunk at a time to the Redis function
 * es_enrich_migrate (lib/redis/enrich.lua), which places the parts as the
 * worker's own writes do, appends the recent entries and deletes the old
 * keys in one atomic call. A crash loses nothing and converts nothing
 * twice, so a migration that stopped anywhere resumes where it was on the
 * next start; the string es:{schema}:version says when it is done.
 *
 * Several workers may start at once: the one that takes the lock key
 * ES_KEY_SCHEMA_LOCK (SET NX, a lifetime every call renews) migrates, the
 * others wait, logging, until the version is current, or until the lock
 * expires (its holder died) and one of them takes it over.
 */
#ifndef ES_ENRICH_MIGRATE_H
#define ES_ENRICH_MIGRATE_H

#include "es_redis.h"
#include "es_vader.h"

/* What one migration did (all zero when there was nothing to do). */
typedef struct {
    int migrated;          /* 1: this process migrated (and set the version) */
    long long tenants;     /* tenants looked at */
    long long records;     /* legacy record keys read */
    long long converted;   /* records written in schema 2 */
    long long existed;     /* already stored in schema 2: kept as stored */
    long long tombstones;  /* tombstones dropped */
    long long malformed;   /* not a record: left in place, to expire */
    long long vanished;    /* expired between the scan and the read */
    long long changed;     /* changed between the read and the write */
    long long old;         /* beyond the retention: no recent entry */
    long long rescored;    /* Comprehend records: VADER scored the body */
    long long public_new;  /* public parts written */
    long long public_diff; /* public part already stored, and different */
    long long recent_sets; /* schema-1 recent sorted sets deleted */
    long long ms;          /* how long the migration ran */
} es_migrate_stats;

/* How long the lock lives without a renewal. */
#define ES_MIGRATE_LOCK_MS 30000

/*
 * Makes sure the data in r is schema 2: migrates it (instance names this
 * process in the lock), or waits for another worker doing it, or finds it
 * done. v scores the bodies of Comprehend records. Returns 0 when the data
 * is schema 2, 1 when asked to stop first (a migration in hand releases
 * its lock and resumes on the next start), -1 when it cannot be (stored
 * data of an unknown schema, a call that failed; logged).
 */
int es_migrate_run(es_redis *r, const es_vader *v, const char *instance,
                   es_migrate_stats *st);

#endif
