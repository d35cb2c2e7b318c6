/*
 * s3put.c - uploads one file with es_s3, for the S3 integration test.
 *
 *   s3put --bucket B --key K --file F [--endpoint URL] [--path-style]
 *         [--prefix P] [--region R] [--content-type T] [--timeout-ms N]
 *         [--backoff-cap-ms N]
 *
 * Credentials come from the standard chain (environment, shared file;
 * IMDS only when AWS_EC2_METADATA_DISABLED is not true), exactly as the
 * workers find them. Prints "ok" and exits 0 after a 200, or prints the
 * error and exits 1. It lives under tests/bench because that is where the
 * build turns a single C file into a program linked with the libraries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_s3.h"

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return def;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    es_aws_chain_opts chain = {NULL, "http://169.254.169.254", 1, 1000};
    const char *imds_off = getenv("AWS_EC2_METADATA_DISABLED");
    const char *file = arg(argc, argv, "--file", NULL);
    const char *key = arg(argc, argv, "--key", NULL);
    es_s3_opts o;
    es_s3 *s3;
    char err[512];
    int rc;

    memset(&o, 0, sizeof(o));
    o.bucket = arg(argc, argv, "--bucket", "");
    o.prefix = arg(argc, argv, "--prefix", "");
    o.endpoint = arg(argc, argv, "--endpoint", "");
    o.region = arg(argc, argv, "--region", "us-east-1");
    o.path_style = flag(argc, argv, "--path-style");
    o.timeout_ms = atol(arg(argc, argv, "--timeout-ms", "10000"));
    o.backoff_cap_ms = atoll(arg(argc, argv, "--backoff-cap-ms", "20000"));
    chain.imds_enabled = !(imds_off && strcmp(imds_off, "true") == 0);
    o.creds = &chain;
    if (file == NULL || key == NULL) {
        fprintf(stderr, "usage: s3put --bucket B --key K --file F ...\n");
        return 2;
    }
    s3 = es_s3_new(&o);
    if (s3 == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    rc = es_s3_put_file(s3, key, file, arg(argc, argv, "--content-type", NULL),
                        0, err, sizeof(err));
    es_s3_free(s3);
    if (rc != 0) {
        printf("error: %s\n", err);
        return 1;
    }
    printf("ok\n");
    return 0;
}
