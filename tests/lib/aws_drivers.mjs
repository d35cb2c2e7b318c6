// aws_drivers.mjs - runs EchoStream's AWS clients for the AWS suites: the
// real echostream-sentiment binary, the small C drivers under tests/bench
// (score: es_scorer in rounds, s3put: one es_s3 upload) and under
// tests/drivers (aws_call: one es_bedrock or es_ses call), with an
// environment that holds exactly the credentials a test gives (nothing
// inherited can leak keys in, no instance metadata lookups).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BUILD, ROOT, startProc } from './harness.mjs';

const run = promisify(execFile);

// path of a program built from tests/<dir>/<name>.c (make is a no-op when
// up to date)
async function built(dir, name) {
  const target = path.join(BUILD, dir, name);
  const rel = path.relative(ROOT, BUILD);
  // the sanitizer tree is only ever built with its own flags
  const asan = rel === path.join('build', 'asan');
  const how = asan ? 'SANITIZE=1' : `BUILD=${BUILD}`;
  // that build names its targets relative to the tree (BUILD := build/asan)
  const goal = asan ? path.relative(ROOT, target) : target;
  await run('make', ['--no-print-directory', '-s', how, goal], { cwd: ROOT,
                                                                 maxBuffer: 16 << 20 });
  if (!existsSync(target)) throw new Error(`${target} was not built`);
  return target;
}

// path of a tests/bench driver, built
export const driver = (name) => built('bench', name);

// path of a tests/drivers program, built
export const testDriver = (name) => built('drivers', name);

// environment for an AWS client: only the given keys, the double's region
export function awsEnv(key, extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_SESSION_TOKEN: key.sessionToken || '',
    AWS_PROFILE: '',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ECHOSTREAM_AWS_IMDS: 'false',
    ECHOSTREAM_AWS_REGION: 'us-east-1',
    ECHOSTREAM_VADER_LEXICON: path.join(ROOT, 'lib/data/vader_lexicon.txt'),
    ...extra,
  };
}

// runs cmd with input on stdin; resolves {code, lines (stdout), stderr}
export async function feed(cmd, args, input, env, name) {
  const p = startProc(cmd, args, { env, name, stdin: true });
  p.child.stdin.on('error', () => {});
  p.child.stdin.end(input);
  const ex = await p.exited;
  const lines = p.stdout().split('\n').filter((l) => l !== '');
  return { code: ex.code, signal: ex.signal, lines, stderr: p.stderr() };
}
