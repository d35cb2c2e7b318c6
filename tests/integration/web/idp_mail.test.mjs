// idp_mail.test.mjs - the local identity provider's codes reach a mailbox.
//
// deploy/local/idp.mjs starts cognito-local and also sends each code it
// would only print by SMTP (ECHOSTREAM_IDP_SMTP=host:port), which is how
// the dashboard's sign-up, "Send a new code" and "Forgot password?" work
// under `make run`. Here the launcher runs as run.sh runs it (own working
// directory, HOST/PORT), an SMTP sink (smtp-server) stands in for the mail
// catcher, and the real AWS SDK client plays the dashboard: the code read
// from the mail must be the one cognito-local accepts, so a mail with a
// wrong or stale code fails the test, not just a missing mail.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import {
  CognitoIdentityProviderClient, ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand, CreateUserPoolClientCommand, CreateUserPoolCommand,
  ForgotPasswordCommand, InitiateAuthCommand, ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';

import {
  ROOT, freePort, httpRequest, startProc, tmpDir, waitFor,
} from '../../lib/harness.mjs';
import { smtpSink } from '../../lib/alert.mjs';

const IDP = path.join(ROOT, 'deploy', 'local', 'idp.mjs');
const FROM = { name: 'EchoStream', address: 'no-reply@echostream.local' };

let sink;
let idp;
let client;
let clientId;

// Starts idp.mjs in a fresh directory; resolves {proc, endpoint}.
async function startIdp(env) {
  const dir = await tmpDir('es-idp-');
  const port = await freePort();
  const proc = startProc(process.execPath, [IDP], {
    name: 'idp', cwd: dir,
    env: { HOST: '127.0.0.1', PORT: String(port),
           AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1', ...env },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.child.exitCode !== null) {
      throw new Error(`idp.mjs exited:\n${proc.output()}`);
    }
    return (await httpRequest({ url: `${endpoint}/health` })).status === 200;
  }, { timeout: 20000, what: 'idp.mjs /health' });
  return { proc, endpoint };
}

function sdk(endpoint) {
  return new CognitoIdentityProviderClient({
    endpoint, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

// A pool like deploy/local/cognito-setup.mjs makes: e-mail user names,
// e-mail verified by code; returns the app client's id.
async function makePool(c) {
  const pool = await c.send(new CreateUserPoolCommand({
    PoolName: 'idp-mail', UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
  }));
  const app = await c.send(new CreateUserPoolClientCommand({
    UserPoolId: pool.UserPool.Id, ClientName: 'dashboard',
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH',
                        'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  return app.UserPoolClient.ClientId;
}

// The mails the sink received for `to`, parsed, oldest first.
async function mailsTo(to) {
  const out = [];
  for (const m of sink.rec.mails) {
    if (m.to.includes(to)) out.push(await simpleParser(m.raw));
  }
  return out;
}

// The one 6-digit number of a mail's text.
function codeOf(mail) {
  const codes = mail.text.match(/\b\d{6}\b/g) || [];
  assert.equal(codes.length, 1, `one code in the text: ${mail.text}`);
  return codes[0];
}

const signIn = (email, password) => client.send(new InitiateAuthCommand({
  ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH',
  AuthParameters: { USERNAME: email, PASSWORD: password },
}));

before(async () => {
  sink = await smtpSink();
  idp = await startIdp({ ECHOSTREAM_IDP_SMTP: `127.0.0.1:${sink.port}` });
  client = sdk(idp.endpoint);
  clientId = await makePool(client);
});

after(async () => {
  client?.destroy();
  if (idp) {
    idp.proc.kill('SIGTERM');
    await idp.proc.exited;
  }
  await sink?.close();
});

test('sign-up mails the confirmation code cognito-local accepts', async () => {
  const email = 'ada@example.test';
  const password = 'Correct-Horse-9';
  await client.send(new SignUpCommand({
    ClientId: clientId, Username: email, Password: password,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  // the launcher waits for the mail before the sign-up returns
  const mails = await mailsTo(email);
  assert.equal(mails.length, 1, 'one mail after sign-up');
  const [mail] = mails;
  assert.deepEqual(mail.from.value[0], FROM);
  assert.equal(mail.to.text, email);
  assert.equal(mail.subject, 'Your EchoStream confirmation code');
  const code = codeOf(mail);
  // cognito-local still prints its box, with the same code
  await idp.proc.waitForOutput(new RegExp(`Code:\\s+${code}`), 5000);

  const wrong = code === '000000' ? '111111' : '000000';
  await assert.rejects(client.send(new ConfirmSignUpCommand({
    ClientId: clientId, Username: email, ConfirmationCode: wrong,
  })), /CodeMismatch|code/i, 'a wrong code is refused');
  await client.send(new ConfirmSignUpCommand({
    ClientId: clientId, Username: email, ConfirmationCode: code,
  }));
  const auth = await signIn(email, password);
  assert.ok(auth.AuthenticationResult?.IdToken, 'signed in after confirm');
  // the code went to the address, so confirming proved it (invites are
  // addressed by verified e-mail)
  const claims = JSON.parse(Buffer.from(
    auth.AuthenticationResult.IdToken.split('.')[1], 'base64url'));
  assert.equal(claims.email, email);
  assert.equal(String(claims.email_verified), 'true',
               'the id token says the e-mail is verified');
});

test('"Send a new code" mails a fresh confirmation code', async () => {
  const email = 'grace@example.test';
  const password = 'Correct-Horse-8';
  await client.send(new SignUpCommand({
    ClientId: clientId, Username: email, Password: password,
    UserAttributes: [{ Name: 'email', Value: email }],
  }));
  const out = await client.send(new ResendConfirmationCodeCommand({
    ClientId: clientId, Username: email,
  }));
  assert.equal(out.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
  assert.equal(out.CodeDeliveryDetails?.Destination, email);
  const mails = await mailsTo(email);
  assert.equal(mails.length, 2, 'sign-up mail and the new one');
  assert.equal(mails[1].subject, 'Your EchoStream confirmation code');
  const fresh = codeOf(mails[1]);
  const first = codeOf(mails[0]);
  if (first !== fresh) {
    await assert.rejects(client.send(new ConfirmSignUpCommand({
      ClientId: clientId, Username: email, ConfirmationCode: first,
    })), /CodeMismatch|code/i, 'the replaced code no longer works');
  }
  await client.send(new ConfirmSignUpCommand({
    ClientId: clientId, Username: email, ConfirmationCode: fresh,
  }));
  assert.ok((await signIn(email, password)).AuthenticationResult?.IdToken);
  // a confirmed user gets no new code (as Cognito answers)
  await assert.rejects(client.send(new ResendConfirmationCodeCommand({
    ClientId: clientId, Username: email,
  })), /confirmed/i);
  assert.equal((await mailsTo(email)).length, 2, 'no mail for that');
});

test('forgot password mails a reset code that sets the new password',
  async () => {
    const email = 'ada@example.test';
    await client.send(new ForgotPasswordCommand({
      ClientId: clientId, Username: email,
    }));
    const mails = await mailsTo(email);
    const mail = mails[mails.length - 1];
    assert.equal(mail.subject, 'Your EchoStream password reset code');
    assert.deepEqual(mail.from.value[0], FROM);
    const code = codeOf(mail);
    await client.send(new ConfirmForgotPasswordCommand({
      ClientId: clientId, Username: email, ConfirmationCode: code,
      Password: 'New-Battery-Staple-7',
    }));
    assert.ok((await signIn(email, 'New-Battery-Staple-7'))
      .AuthenticationResult?.IdToken, 'the new password works');
    await assert.rejects(signIn(email, 'Correct-Horse-9'),
      /NotAuthorized|password/i, 'the old one does not');
  });

test('a mail server that is down never breaks sign-up', async () => {
  const dead = await freePort(); // nothing listens there
  const other = await startIdp({ ECHOSTREAM_IDP_SMTP: `127.0.0.1:${dead}` });
  const c = sdk(other.endpoint);
  try {
    const cid = await makePool(c);
    const out = await c.send(new SignUpCommand({
      ClientId: cid, Username: 'lin@example.test', Password: 'Pass-word-77',
      UserAttributes: [{ Name: 'email', Value: 'lin@example.test' }],
    }));
    assert.equal(out.UserConfirmed, false);
    assert.ok(out.UserSub, 'the user was created');
    await other.proc.waitForOutput(/could not mail the SignUp code/, 5000);
  } finally {
    c.destroy();
    other.proc.kill('SIGTERM');
    await other.proc.exited;
  }
});

test('a malformed ECHOSTREAM_IDP_SMTP stops the launcher with a reason',
  async () => {
    const dir = await tmpDir('es-idp-');
    const proc = startProc(process.execPath, [IDP], {
      name: 'idp', cwd: dir,
      env: { HOST: '127.0.0.1', PORT: String(await freePort()),
             ECHOSTREAM_IDP_SMTP: 'localhost' },
    });
    const { code } = await proc.exited;
    assert.equal(code, 2);
    assert.match(proc.output(), /ECHOSTREAM_IDP_SMTP=localhost is not host:port/);
  });
