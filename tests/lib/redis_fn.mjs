// redis_fn.mjs - shared code of the black-box tests of the Redis function
// libraries (lib/redis/*.lua) called one function at a time.
//
// The libraries are loaded exactly as the programs send them: the text the
// build writes to build/gen/redis/<file>.lua (prelude with the schema
// constants, the file, the version function), never the source, so a test
// sees the same ES table and the same code Redis runs in production.
//
// harness.mjs's client rejects a Redis error reply with an Error whose
// message is the error line without its "-" (e.g. "CONFLICT topic t1
// already exists"); fcallError turns that into the message a test asserts
// on, and fails the test when the call answered anything else. A function
// that answers an error must also leave the data alone, so snapshot()
// captures every key (type, readable value, absolute expiry) for an exact
// before/after comparison.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from './harness.mjs';
import { scanKeys, snapshotKeys } from './tenants.mjs';

export const GEN = path.join(ROOT, 'build', 'gen', 'redis');
export const SRC = path.join(ROOT, 'lib', 'redis');

// The built text of lib/redis/<file> (e.g. "tenant.lua").
export function libraryText(file) {
  const p = path.join(GEN, file);
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: run make build/gen/es_lua_` +
                    `${path.basename(file, '.lua')}.c first`);
  }
  return readFileSync(p, 'utf8');
}

// The functions lib/redis/<file> registers (its version function aside),
// sorted: a suite compares them with the ones it tests, so a function added
// later without tests fails the suite instead of passing unnoticed.
export function registeredFunctions(file) {
  const src = readFileSync(path.join(SRC, file), 'utf8');
  // both forms: register_function('name', fn) and, for a function with
  // flags, register_function{function_name = 'name', ...}
  const names = [...src.matchAll(
    /redis\.register_function(?:\(\s*|\{\s*function_name\s*=\s*)'([a-z_]+)'/g)]
    .map((m) => m[1]);
  assert.ok(names.length > 0, `${file} registers functions`);
  return names.sort();
}

// Loads one built library (replacing any copy); returns its name.
export async function loadLibrary(redis, file) {
  return redis.cmd('FUNCTION', 'LOAD', 'REPLACE', libraryText(file));
}

// Empties Redis (data and functions) and loads the given libraries: every
// test starts from nothing but the code under test.
export async function resetRedis(redis, ...files) {
  await redis.cmd('FUNCTION', 'FLUSH');
  await redis.cmd('FLUSHALL');
  for (const f of files) await loadLibrary(redis, f);
}

// FCALL name with keys and args; resolves to the reply, rejects on an
// error reply.
export function fcall(redis, name, keys = [], args = []) {
  return redis.cmd('FCALL', name, keys.length, ...keys, ...args);
}

// The message of the error reply FCALL answers; fails when it answers
// anything else (a reply that is not an error is the bug being tested for).
export async function fcallError(redis, name, keys = [], args = []) {
  let reply;
  try {
    reply = await fcall(redis, name, keys, args);
  } catch (e) {
    if (e.redis) return e.message;
    throw e;
  }
  return assert.fail(`${name} answered ${JSON.stringify(reply)}, ` +
                     'not an error');
}

// Every key Redis holds: {key: {type, expire (absolute ms, -1 none), value}}.
export async function snapshot(redis) {
  return (await snapshotKeys(redis, await scanKeys(redis, '*'))).readable;
}

// A flat [k1, v1, k2, v2, …] reply (HGETALL) as an object.
export function pairs(arr) {
  const o = {};
  for (let i = 0; i < arr.length; i += 2) o[arr[i]] = arr[i + 1];
  return o;
}

// HGETALL as an object.
export async function hgetall(redis, key) {
  return pairs(await redis.cmd('HGETALL', key));
}

// ZRANGE WITHSCORES as {member: score (number)}, lowest score first.
export async function zscores(redis, key) {
  const a = await redis.cmd('ZRANGE', key, 0, -1, 'WITHSCORES');
  const o = {};
  for (let i = 0; i < a.length; i += 2) o[a[i]] = Number(a[i + 1]);
  return o;
}

// XRANGE - + as [{id, fields: {…}, list: [f1, v1, …]}]: the object for
// the values, the list for the field order.
export async function xrange(redis, key) {
  return (await redis.cmd('XRANGE', key, '-', '+'))
    .map(([id, list]) => ({ id, fields: pairs(list), list }));
}

// The value of Redis's clock, in whole seconds (TIME), so expected expiry
// times are computed from the server's "now", not the test process's.
export async function redisNow(redis) {
  const [s] = await redis.cmd('TIME');
  return Number(s);
}
