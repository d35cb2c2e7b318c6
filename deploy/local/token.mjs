#!/usr/bin/env node
/*
 * token.mjs - prints an id token of the local demo user, for trying the API
 * by hand while `make run` runs:
 *
 *   TOKEN=$(node deploy/local/token.mjs)
 *   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/me
 *
 * It signs in the way the dashboard does (USER_PASSWORD_AUTH against the
 * local identity provider, through the real AWS SDK), with the settings
 * `make run` wrote: var/run/config.json and var/cognito/demo-user.txt
 * (ECHOSTREAM_VAR moves var/). --access prints the access token instead.
 * Only the token goes to stdout; errors go to stderr with exit status 1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
    CognitoIdentityProviderClient,
    InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..');
const VAR = process.env.ECHOSTREAM_VAR || path.join(ROOT, 'var');

function fail(msg) {
    process.stderr.write(`token: ${msg}\n`);
    process.exit(1);
}

let cfg;
let user;
try {
    cfg = JSON.parse(readFileSync(path.join(VAR, 'run', 'config.json'),
        'utf8'));
    const text = readFileSync(path.join(VAR, 'cognito', 'demo-user.txt'),
        'utf8');
    user = {
        email: /^email: (\S+)$/m.exec(text)[1],
        password: /^password: (\S+)$/m.exec(text)[1],
    };
} catch (err) {
    fail(`no local setup in ${VAR} (is make run running?): ${err.message}`);
}

const idp = new CognitoIdentityProviderClient({
    endpoint: cfg.cognito.endpoint,
    region: cfg.cognito.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
try {
    const out = await idp.send(new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: cfg.cognito.clientId,
        AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
    }));
    const r = out.AuthenticationResult;
    process.stdout.write(`${process.argv.includes('--access')
        ? r.AccessToken : r.IdToken}\n`);
} catch (err) {
    fail(`sign-in failed: ${err.name}: ${err.message}`);
} finally {
    idp.destroy();
}
