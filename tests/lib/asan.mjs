// asan.mjs - nginx with the module built under AddressSanitizer + UBSan
// (build/asan/ngx_http_echostream_module.so, make module-asan), Debian's
// nginx with the sanitizer runtimes preloaded, on a private Redis and
// cognito-local. Reports land in files of a temporary directory; reports()
// reads them, and a graceful stop (which runs LeakSanitizer at each
// worker's exit) must leave none.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { apiConf, startCognito } from './api.mjs';
import { BUILD, startRedis, tmpDir } from './harness.mjs';
import { startNginx } from './nginx.mjs';

export const ASAN_MODULE = path.join(BUILD, 'asan',
  'ngx_http_echostream_module.so');

const runtime = (lib) => execFileSync('gcc', [`-print-file-name=${lib}`])
  .toString().trim();

// The environment that loads the sanitizer runtimes into nginx and writes
// their reports under logDir, for a suite that starts nginx itself.
export function asanEnv(logDir) {
  return {
    LD_PRELOAD: `${runtime('libasan.so')} ${runtime('libubsan.so')}`,
    ASAN_OPTIONS: `detect_leaks=1:log_path=${logDir}/asan`,
    UBSAN_OPTIONS: `print_stacktrace=1:log_path=${logDir}/ubsan`,
  };
}

// Every report file under logDir, with its text.
export const asanReports = (logDir) => readdirSync(logDir).map((f) =>
  `${f}:\n${readFileSync(path.join(logDir, f), 'utf8')}`);

// {redis, cognito, nginx, logDir, reports(), stop()}; extraConf as for
// apiConf (http level).
export async function startAsanStack({ extraConf = '' } = {}) {
  assert.ok(existsSync(ASAN_MODULE),
    `${ASAN_MODULE} is missing: run make module-asan`);
  const redis = await startRedis();
  const cognito = await startCognito();
  const logDir = await tmpDir('es-asan-');
  const nginx = await startNginx({
    redisUrl: redis.url, module: ASAN_MODULE,
    ...apiConf(cognito, { extraConf }),
    env: asanEnv(logDir),
  });
  return {
    redis, cognito, nginx, logDir,
    // every report file, with its text
    reports: () => asanReports(logDir),
    async stop() {
      await nginx.stop();
      await cognito.stop();
      await redis.close();
    },
  };
}
