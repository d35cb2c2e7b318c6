/*
 * team_invite_form.js - the "Invite someone" section of #/team (owners):
 * an e-mail address and a role, "Send invite" (POST /members).
 *
 * Nothing is mailed: the invited person sees the invite on their own Team
 * page once they sign in with that address, which the help text says, so
 * the owner knows to tell them. The API checks the address and answers
 * 409 for someone already in the team; both errors show at the form.
 */

import { post } from '../api.js';
import { clearFieldErrors, field, h, mount, showFieldErrors } from '../dom.js';
import { toast } from '../ui.js';
import { showSaveError } from './form_errors.js';

/* onSent() runs after an invite was made (to reload the pending list). */
export function inviteForm(el, onSent) {
  const email = h('input', { type: 'email', autocomplete: 'off', required: true });
  const role = h('select', null,
    h('option', { value: 'member' }, 'Member'),
    h('option', { value: 'owner' }, 'Owner'));
  const form = h('form', { class: 'form invite-form', noValidate: true },
    field({
      label: 'Email', input: email, name: 'email',
      help: 'They see the invite on their Team page after signing in with this address. It lasts 7 days.',
    }),
    field({
      label: 'Role', input: role, name: 'role',
      help: 'Members read everything and choose their own e-mails; owners also manage topics, alerts, settings and the team.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send invite')));

  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFieldErrors(form);
    const address = email.value.trim();
    if (!address) {
      showFieldErrors(form, { field: 'email', message: 'Enter the e-mail address to invite.' });
      return;
    }
    busy = true;
    try {
      const inv = await post('/members', { email: address, role: role.value });
      toast(`Invited ${inv.email}.`);
      email.value = '';
      email.focus();
      onSent();
    } catch (err) {
      showSaveError(form, err);
    } finally {
      busy = false;
    }
  });

  mount(el, h('h2', null, 'Invite someone'), form);
}
