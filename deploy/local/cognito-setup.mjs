#!/usr/bin/env node
/*
 * cognito-setup.mjs - the local identity provider's state for `make run`.
 *
 * cognito-local plays Cognito on the developer's box. This script gives it
 * what the dashboard and the nginx module need, through the real AWS SDK
 * (so the calls are the ones a real user pool would take):
 *
 *   issuer  --dir DIR --issuer URL
 *       Before cognito-local starts: sets TokenConfig.IssuerDomain in
 *       DIR/.cognito/config.json so tokens carry iss = URL/<poolId>, the
 *       address the module fetches the JWKS from. Other settings are kept.
 *
 *   setup   --dir DIR --endpoint URL --api-base URL --out FILE [--hosted-ui]
 *       Once cognito-local answers: makes sure a user pool, an app client
 *       (no secret, USER_PASSWORD_AUTH) and a confirmed demo user exist,
 *       then writes the dashboard's config FILE (with --hosted-ui it names
 *       cognito-local's own /oauth2 pages as the Hosted UI, so the
 *       dashboard offers the authorization-code sign-in with PKCE; the app
 *       client's callback is always the dashboard). Ids live in DIR/ids.json
 *       and are reused while the pool exists, so a second run keeps the same
 *       pool, users and tokens' issuer; a pool that vanished is recreated.
 *       The demo user's password lives only in DIR/demo-user.txt (mode 600)
 *       and is never printed by this script.
 *
 * Any credentials do for cognito-local; fixed dummy ones keep the SDK from
 * looking for real ones (environment, files, instance metadata).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import {
    AdminCreateUserCommand,
    AdminGetUserCommand,
    AdminSetUserPasswordCommand,
    CognitoIdentityProviderClient,
    CreateUserPoolClientCommand,
    CreateUserPoolCommand,
    DescribeUserPoolClientCommand,
    DescribeUserPoolCommand,
    UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

const REGION = 'us-east-1';
const POOL_NAME = 'echostream-local';
const CLIENT_NAME = 'echostream-dashboard';
const DEMO_EMAIL = 'demo@echostream.local';

/*
 * The dashboard's app client. It neither reads nor writes
 * custom:tenant_id: the module ignores that claim by default (membership
 * is stored and changes only through the API), and an operator who turns
 * it on (echostream_tenant_claim) relies on no app client being able to
 * write it. Users may change their own e-mail.
 */
const CLIENT_SETTINGS = {
    ClientName: CLIENT_NAME,
    ExplicitAuthFlows: [
        'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH',
    ],
    ReadAttributes: ['email', 'email_verified'],
    WriteAttributes: ['email'],
    /* the Hosted UI (authorization code with PKCE) back to the dashboard */
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    SupportedIdentityProviders: ['COGNITO'],
};

/* The app client's settings for a dashboard at url (its callback). */
function clientSettings(url) {
    return { ...CLIENT_SETTINGS, CallbackURLs: [url], LogoutURLs: [url] };
}

/* Prints a progress line (never a secret). */
function say(msg) {
    process.stdout.write(`cognito-setup: ${msg}\n`);
}

/* Reads a JSON file; null when it does not exist. */
async function readJson(path) {
    let text;
    try {
        text = await readFile(path, 'utf8');
    } catch (err) {
        if (err.code === 'ENOENT') return null;
        throw err;
    }
    return JSON.parse(text);
}

/* Writes a file whole or not at all (readers never see half of it). */
async function writeAtomic(path, text, mode = 0o644) {
    const tmp = `${path}.tmp-${process.pid}`;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, text, { mode });
    await rename(tmp, path);
}

/* True when err is the SDK's "no such pool/client/user" answer. */
function isNotFound(err) {
    return /NotFound/.test(err?.name ?? '') ||
        /NotFound/.test(err?.__type ?? '');
}

/* issuer: points the tokens' iss at the address cognito-local serves. */
async function setIssuer(dir, issuer) {
    const path = join(dir, '.cognito', 'config.json');
    const cfg = (await readJson(path)) ?? {};
    cfg.TokenConfig = { ...(cfg.TokenConfig ?? {}), IssuerDomain: issuer };
    await writeAtomic(path, JSON.stringify(cfg, null, 2) + '\n');
}

/*
 * The pool of ids.json if it still exists, else a new one; returns its id.
 *
 * A new e-mail address takes effect only once verified (as Cognito can be
 * told to do): invites are addressed by e-mail, and an address a user
 * could just set on themself would let them take someone else's invites.
 * The tenant attribute cannot be changed after sign-up at all.
 */
async function ensurePool(idp, ids) {
    if (ids.userPoolId) {
        try {
            const out = await idp.send(new DescribeUserPoolCommand({
                UserPoolId: ids.userPoolId,
            }));
            const verify = out.UserPool.UserAttributeUpdateSettings
                ?.AttributesRequireVerificationBeforeUpdate ?? [];
            if (!verify.includes('email')) {
                say(`warning: user pool ${ids.userPoolId} predates the rule ` +
                    'that a changed e-mail must be verified first; delete ' +
                    'var/cognito/ (its .cognito/ and ids.json) to make a ' +
                    'new one');
            }
            return ids.userPoolId;
        } catch (err) {
            if (!isNotFound(err)) throw err;
            say(`user pool ${ids.userPoolId} is gone; creating a new one`);
        }
    }
    const out = await idp.send(new CreateUserPoolCommand({
        PoolName: POOL_NAME,
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        UserAttributeUpdateSettings: {
            AttributesRequireVerificationBeforeUpdate: ['email'],
        },
        Schema: [{
            Name: 'tenant_id',
            AttributeDataType: 'String',
            Mutable: false,
        }],
    }));
    say(`created user pool ${out.UserPool.Id}`);
    ids.clientId = undefined; /* a client belongs to its pool */
    return out.UserPool.Id;
}

/*
 * The app client of ids.json if it exists in the pool (brought to
 * CLIENT_SETTINGS when an older run made it without them), else a new one.
 */
async function ensureClient(idp, poolId, ids, dashboard) {
    const settings = clientSettings(dashboard);
    if (ids.clientId) {
        try {
            const out = await idp.send(new DescribeUserPoolClientCommand({
                UserPoolId: poolId, ClientId: ids.clientId,
            }));
            const { ReadAttributes: read, WriteAttributes: write,
                CallbackURLs: callbacks } = out.UserPoolClient;
            if (!write || !read || write.includes('custom:tenant_id') ||
                read.includes('custom:tenant_id') ||
                !(callbacks ?? []).includes(dashboard)) {
                await idp.send(new UpdateUserPoolClientCommand({
                    UserPoolId: poolId, ClientId: ids.clientId,
                    ...settings,
                }));
                say(`app client ${ids.clientId} brought up to date ` +
                    `(no custom:tenant_id, callback ${dashboard})`);
            }
            return ids.clientId;
        } catch (err) {
            if (!isNotFound(err)) throw err;
        }
    }
    const out = await idp.send(new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        GenerateSecret: false,
        ...settings,
    }));
    say(`created app client ${out.UserPoolClient.ClientId}`);
    return out.UserPoolClient.ClientId;
}

/* The demo user's password from demo-user.txt, or null. */
async function readDemoPassword(path) {
    let text;
    try {
        text = await readFile(path, 'utf8');
    } catch (err) {
        if (err.code === 'ENOENT') return null;
        throw err;
    }
    const m = /^password: (\S+)$/m.exec(text);
    return m ? m[1] : null;
}

/*
 * A confirmed demo user whose password is the one in demo-user.txt (a new
 * random one the first time). Setting it on every run keeps file and pool
 * in step even if either was edited by hand.
 */
async function ensureDemoUser(idp, poolId, dir) {
    const file = join(dir, 'demo-user.txt');
    let password = await readDemoPassword(file);
    if (!password) {
        /* mixed classes so any password policy accepts it */
        password = `${randomBytes(15).toString('base64url')}Aa1!`;
    }
    let exists = true;
    try {
        await idp.send(new AdminGetUserCommand({
            UserPoolId: poolId, Username: DEMO_EMAIL,
        }));
    } catch (err) {
        if (!isNotFound(err)) throw err;
        exists = false;
    }
    if (!exists) {
        await idp.send(new AdminCreateUserCommand({
            UserPoolId: poolId,
            Username: DEMO_EMAIL,
            MessageAction: 'SUPPRESS',
            UserAttributes: [
                { Name: 'email', Value: DEMO_EMAIL },
                { Name: 'email_verified', Value: 'true' },
            ],
        }));
        say(`created demo user ${DEMO_EMAIL}`);
    }
    await idp.send(new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: DEMO_EMAIL,
        Password: password,
        Permanent: true,
    }));
    await writeAtomic(file,
        '# demo user of the local identity provider (make run)\n' +
        `email: ${DEMO_EMAIL}\npassword: ${password}\n`, 0o600);
}

/* setup: pool, client and demo user, then the dashboard's config.json. */
async function setup(opts) {
    const idp = new CognitoIdentityProviderClient({
        endpoint: opts.endpoint,
        region: REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
    });
    const idsPath = join(opts.dir, 'ids.json');
    let ids = {};
    try {
        ids = (await readJson(idsPath)) ?? {};
    } catch (err) {
        say(`${idsPath} is unreadable (${err.message}); starting afresh`);
    }

    const poolId = await ensurePool(idp, ids);
    /* the dashboard is served where the API is: its origin, path / */
    const dashboard = new URL('/', opts['api-base']).href;
    const clientId = await ensureClient(idp, poolId, ids, dashboard);
    await ensureDemoUser(idp, poolId, opts.dir);

    await writeAtomic(idsPath, JSON.stringify({
        userPoolId: poolId, clientId, region: REGION, demoUser: DEMO_EMAIL,
    }, null, 2) + '\n');
    await writeAtomic(opts.out, JSON.stringify({
        apiBase: opts['api-base'],
        cognito: {
            endpoint: opts.endpoint, region: REGION,
            userPoolId: poolId, clientId,
            /* the Hosted UI sign-in: cognito-local serves /oauth2 itself */
            ...(opts['hosted-ui'] ? { domain: opts.endpoint } : {}),
        },
    }, null, 2) + '\n');
    say(`user pool ${poolId}, app client ${clientId}`);
    idp.destroy();
}

/* Exits 2 with a usage line when a required option is missing. */
function need(opts, names) {
    for (const n of names) {
        if (!opts[n]) {
            process.stderr.write(`cognito-setup: missing --${n}\n` +
                'usage: cognito-setup.mjs issuer --dir DIR --issuer URL\n' +
                '       cognito-setup.mjs setup --dir DIR --endpoint URL ' +
                '--api-base URL --out FILE [--hosted-ui]\n');
            process.exit(2);
        }
    }
}

async function main() {
    const { values: opts, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            dir: { type: 'string' },
            issuer: { type: 'string' },
            endpoint: { type: 'string' },
            'api-base': { type: 'string' },
            out: { type: 'string' },
            'hosted-ui': { type: 'boolean' },
        },
    });
    const cmd = positionals[0];
    if (cmd === 'issuer') {
        need(opts, ['dir', 'issuer']);
        await setIssuer(opts.dir, opts.issuer);
    } else if (cmd === 'setup') {
        need(opts, ['dir', 'endpoint', 'api-base', 'out']);
        await setup(opts);
    } else {
        need({}, ['dir']);
    }
}

main().catch((err) => {
    process.stderr.write(`cognito-setup: error: ${err.name ?? 'Error'}: ` +
        `${err.message}\n`);
    process.exit(1);
});
