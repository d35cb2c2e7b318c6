// unsub.mjs - unsubscribe links for the tests: a mail secret file for
// nginx's echostream_mail_secret_file, and links signed the way the mail
// worker signs them (lib/es_unsub.h), computed here with Node's own HMAC
// so the module's check is held to the format, not to itself.

import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { tmpDir } from './harness.mjs';

// Writes a fresh secret (with the trailing newline an editor leaves) into
// a new temporary directory: {file, key (the bytes that sign), conf (the
// http-level directive)}.
export async function mailSecret() {
  const dir = await tmpDir('es-mail-secret-');
  const key = randomBytes(32).toString('hex');
  const file = path.join(dir, 'mail.secret');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { file, key, conf: `    echostream_mail_secret_file ${file};` };
}

// The lower-case hex signature of a link.
export function unsubSig(key, tenant, sub, list) {
  return createHmac('sha256', key)
    .update(`unsubscribe\n${tenant}\n${sub}\n${list}`).digest('hex');
}

// The path of a link (under /api/v1), signed with key unless sig is given.
export function unsubPath(key, tenant, sub, list, { sig } = {}) {
  const q = new URLSearchParams({ t: tenant, s: sub, l: list,
    sig: sig ?? unsubSig(key, tenant, sub, list) });
  return `/api/v1/unsubscribe?${q}`;
}

// The form body of RFC 8058's one-click POST, with its content type.
export const ONE_CLICK = {
  body: 'List-Unsubscribe=One-Click',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
};
