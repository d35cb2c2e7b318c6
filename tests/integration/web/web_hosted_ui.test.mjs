// web_hosted_ui.test.mjs - the Hosted UI sign-in (authorization code with
// PKCE) in a real browser, against cognito-local's own /oauth2 pages,
// which `make run` names as the Hosted UI with ECHOSTREAM_HOSTED_UI=1.
//
// What docs/dashboard.md promises and this suite holds it to:
//   * the dashboard sends the user to /oauth2/authorize with
//     response_type=code, a S256 code_challenge, a random state and its own
//     origin as redirect_uri;
//   * the code comes back to /?code=&state=, is exchanged at /oauth2/token
//     with the verifier, the query leaves the address bar, and the user
//     lands on the page they first asked for (next), signed in;
//   * a callback whose state this tab did not make (a forged or replayed
//     link) signs nobody in and says why;
//   * sign-out forgets the session.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  startStack, createUser, launchBrowser, guard,
} from '../../lib/web.mjs';

const EMAIL = 'hosted@example.com';
const PASSWORD = 'Hosted-ui-1!';

let stack;
let ctx;
let g;

before(async () => {
  stack = await startStack({ reddit: false, env: { ECHOSTREAM_HOSTED_UI: '1' } });
  assert.equal(stack.config.cognito.domain, stack.cognitoUrl,
               'config.json names the Hosted UI');
  await createUser(stack, EMAIL, PASSWORD);
  ctx = await launchBrowser();
  g = await guard(ctx, stack);
});

after(async () => {
  await ctx?.close();
  await stack?.stop();
});

test('authorization code with PKCE, back to the page asked for', async () => {
  const page = ctx.pages()[0] || await ctx.newPage();
  const authorize = [];
  const exchanges = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${stack.cognitoUrl}/oauth2/authorize`) && r.method() === 'GET') {
      authorize.push(new URL(r.url()));
    }
    if (r.url() === `${stack.cognitoUrl}/oauth2/token`) {
      exchanges.push(new URLSearchParams(r.postData() || ''));
    }
  });
  await page.goto(`${stack.url}/#/settings`);
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  assert.match(page.url(), /#\/signin\?next=%23%2Fsettings$/);
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${stack.cognitoUrl}/oauth2/authorize`));

  assert.equal(authorize.length, 1);
  const q = authorize[0].searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('client_id'), stack.config.cognito.clientId);
  assert.equal(q.get('redirect_uri'), `${stack.url}/`);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.get('state'), /^[A-Za-z0-9_-]{32}$/);

  await page.locator('input[name=username]').fill(EMAIL);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.getByRole('heading', { name: 'Settings', exact: true })
    .waitFor({ timeout: 15000 });
  assert.equal(page.url(), `${stack.url}/#/settings`, 'the code left the address bar');
  assert.equal(exchanges.length, 1);
  const x = exchanges[0];
  assert.equal(x.get('grant_type'), 'authorization_code');
  assert.equal(x.get('redirect_uri'), `${stack.url}/`);
  assert.match(x.get('code_verifier'), /^[A-Za-z0-9_-]{43,128}$/);
  await page.getByText(EMAIL).first().waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  const stored = await page.evaluate(() => localStorage.getItem('echostream.session'));
  assert.equal(stored, null, 'the session is forgotten');
  assert.deepEqual(g.problems({ allowResourceErrors: true }), []);
});

test('a callback with a state this tab did not make signs nobody in', async () => {
  const page = await ctx.newPage();
  await page.goto(`${stack.url}/?code=forged-code&state=forged-state#/topics`);
  await page.getByText(/does not match this browser tab/).waitFor({ timeout: 15000 });
  assert.doesNotMatch(page.url(), /code=/, 'the forged code left the address bar');
  const stored = await page.evaluate(() => localStorage.getItem('echostream.session'));
  assert.equal(stored, null);
  await page.close();
});
