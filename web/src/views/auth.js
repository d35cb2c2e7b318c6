/*
 * views/auth.js - the account screens: sign in, create an account,
 * confirm the e-mail with its code, reset a forgotten password.
 *
 * They talk to the identity provider only (auth.js). The password typed
 * at sign-up is kept in memory, never stored, just long enough to sign in
 * right after the code is confirmed, so a new user goes from "Create
 * account" to their topics without typing it twice. Errors of the
 * identity provider are shown at the form in its own words, with the
 * common ones said plainly.
 */

import * as auth from '../auth.js';
import { clearFieldErrors, field, formError, h, mount } from '../dom.js';
import { afterSignIn } from '../router.js';
import { markReady } from '../ui.js';

let pending = null; /* {email, password} between sign-up and confirmation */
let notice = null; /* a message for the next sign-in screen */

/* Shows message (once) on the next sign-in screen. */
export function setSignInNotice(message) {
  notice = message;
}

function input(type, name, autocomplete, extra = {}) {
  return h('input', { type, name, autocomplete, required: true, ...extra });
}

function explain(err) {
  switch (err.name) {
    case 'UserNotConfirmedException':
      return 'This account is not confirmed yet. Enter the code we sent you.';
    case 'NotAuthorizedException':
      return 'Wrong e-mail or password.';
    case 'UserNotFoundException':
      return 'No account has this e-mail address.';
    case 'UsernameExistsException':
      return 'An account with this e-mail already exists. Sign in, or reset the password.';
    case 'CodeMismatchException':
      return 'That code is not right. Check the e-mail, or send a new code.';
    case 'ExpiredCodeException':
      return 'That code has expired. Send a new code.';
    case 'InvalidPasswordException':
      return `The password is not accepted: ${err.message}`;
    case 'LimitExceededException':
    case 'TooManyRequestsException':
      return 'Too many attempts. Wait a minute and try again.';
    default:
      return err.message || 'Something went wrong.';
  }
}

function showError(form, err) {
  clearFieldErrors(form);
  const line = formError(form);
  line.textContent = explain(err);
  line.hidden = false;
}

/* Disables the form while fn runs; shows its error at the form. */
function handler(form, fn) {
  return async (e) => {
    e.preventDefault();
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    clearFieldErrors(form);
    try {
      await fn();
    } catch (err) {
      showError(form, err);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };
}

function card(root, title, ...children) {
  mount(root, h('div', { class: 'auth-card card' }, h('h1', null, title), ...children));
  markReady();
}

function note(text) {
  return h('p', { class: 'form-note', role: 'status' }, text);
}

export function signIn(root, params) {
  const email = input('email', 'email', 'username', { value: params.query.email || '' });
  const password = input('password', 'password', 'current-password');
  const form = h('form', { class: 'form', noValidate: false },
    field({ label: 'Email', input: email }),
    field({ label: 'Password', input: password }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in')));
  form.addEventListener('submit', handler(form, async () => {
    try {
      await auth.signIn(email.value.trim(), password.value);
    } catch (err) {
      /* one answer for a wrong address or password, whichever the
         identity provider names (cognito-local says InvalidPassword):
         the screen does not tell who has an account */
      if (['NotAuthorizedException', 'InvalidPasswordException',
        'UserNotFoundException'].includes(err.name)) {
        throw new auth.AuthError('NotAuthorizedException', err.message, err.status);
      }
      if (err.name === 'UserNotConfirmedException') {
        pending = { email: email.value.trim(), password: password.value };
        location.hash = `#/confirm?email=${encodeURIComponent(pending.email)}${params.query.next ? `&next=${encodeURIComponent(params.query.next)}` : ''}`;
        return;
      }
      throw err;
    }
    afterSignIn(params.query);
  }));
  const hosted = auth.hostedUi()
    ? h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'btn',
      on: { click: () => auth.hostedSignIn(params.query.next) },
    }, 'Sign in with your organisation'))
    : null;
  const links = h('p', { class: 'auth-links' },
    h('a', { href: '#/signup' }, 'Create an account'), ' · ',
    h('a', { href: `#/forgot${email.value ? `?email=${encodeURIComponent(email.value)}` : ''}` }, 'Forgot password?'));
  const msg = params.query.reset ? note('Your password has been changed. Sign in with the new one.') : null;
  const problem = notice ? h('p', { class: 'form-error', role: 'alert' }, notice) : null;
  notice = null;
  card(root, 'Sign in', problem, msg, form, hosted, links);
  (email.value ? password : email).focus();
}

export function signUp(root) {
  const email = input('email', 'email', 'email');
  const password = input('password', 'password', 'new-password', { minLength: 8 });
  const form = h('form', { class: 'form' },
    field({ label: 'Email', input: email }),
    field({ label: 'Password', input: password, help: 'At least 8 characters, with upper- and lower-case letters, a digit and a symbol.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create account')));
  form.addEventListener('submit', handler(form, async () => {
    const addr = email.value.trim();
    await auth.signUp(addr, password.value);
    pending = { email: addr, password: password.value };
    location.hash = `#/confirm?email=${encodeURIComponent(addr)}&sent=1`;
  }));
  card(root, 'Create an account', form,
    h('p', { class: 'auth-links' }, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')));
  email.focus();
}

export function confirm(root, params) {
  const email = input('email', 'email', 'username', { value: params.query.email || '' });
  const code = input('text', 'code', 'one-time-code', { inputMode: 'numeric', maxLength: 16 });
  const status = note(params.query.sent
    ? 'We sent a confirmation code to your e-mail address.'
    : 'Enter the code from the e-mail we sent you.');
  const resend = h('button', { type: 'button', class: 'btn' }, 'Send a new code');
  const form = h('form', { class: 'form' },
    field({ label: 'Email', input: email }),
    field({ label: 'Confirmation code', input: code }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm'), resend));
  resend.addEventListener('click', handler(form, async () => {
    await auth.resendCode(email.value.trim());
    status.textContent = 'A new code is on its way to your e-mail address.';
  }));
  form.addEventListener('submit', handler(form, async () => {
    const addr = email.value.trim();
    await auth.confirmSignUp(addr, code.value.trim());
    if (pending && pending.email === addr) {
      const { password } = pending;
      pending = null;
      await auth.signIn(addr, password);
      afterSignIn(params.query);
      return;
    }
    location.hash = `#/signin?email=${encodeURIComponent(addr)}`;
  }));
  card(root, 'Confirm your e-mail', status, form);
  (email.value ? code : email).focus();
}

export function forgot(root, params) {
  const email = input('email', 'email', 'username', { value: params.query.email || '' });
  const first = h('form', { class: 'form' },
    field({ label: 'Email', input: email }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send code')));
  const code = input('text', 'code', 'one-time-code', { inputMode: 'numeric', maxLength: 16 });
  const password = input('password', 'password', 'new-password', { minLength: 8 });
  const second = h('form', { class: 'form', hidden: true },
    note('We sent a code to your e-mail address. Enter it with your new password.'),
    field({ label: 'Code', input: code }),
    field({ label: 'New password', input: password }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Set new password')));
  first.addEventListener('submit', handler(first, async () => {
    await auth.forgotPassword(email.value.trim());
    email.readOnly = true;
    second.hidden = false;
    code.focus();
  }));
  second.addEventListener('submit', handler(second, async () => {
    const addr = email.value.trim();
    await auth.confirmForgotPassword(addr, code.value.trim(), password.value);
    location.hash = `#/signin?email=${encodeURIComponent(addr)}&reset=1`;
  }));
  card(root, 'Reset your password', first, second,
    h('p', { class: 'auth-links' }, h('a', { href: '#/signin' }, 'Back to sign in')));
  email.focus();
}
