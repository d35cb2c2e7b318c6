/*
 * team_invites.js - the "Invites for you" section of #/team: invites
 * addressed to the signed-in e-mail, from any team (GET /invites), with
 * "Accept" and "Decline".
 *
 * Accepting moves the user to the other team, so the API may first ask:
 * when the user is the only member of their current team, that team and
 * all its data would be deleted, and the answer is 409 confirm_required
 * with a message naming what would go. That message is shown as the API
 * words it, with "Yes, accept" (POST again with {"confirm": true}). A 409
 * conflict (an owner who would leave members behind without an owner) is
 * shown with its reason and nothing more to click. This section also
 * works for a user who belongs to no team: /invites needs none.
 */

import { get, post } from '../api.js';
import { h, mount } from '../dom.js';
import { fmtDate } from '../format.js';
import { confirmInline, describe, empty, section, toast } from '../ui.js';

/*
 * The API's confirm_required message names the team and what it holds,
 * then tells a client how to confirm; that last part is for programs, and
 * the button below it says the same to people.
 */
function confirmText(message) {
  const what = String(message || 'Accepting deletes your current team and all its data')
    .replace(/;?\s*send \{.*$/s, '').trim();
  return `${what.charAt(0).toUpperCase()}${what.slice(1)}. Accept anyway?`;
}

/* onJoined(accepted) runs after an invite was accepted. */
export function teamInvites(el, onJoined) {
  const list = h('div');
  mount(el, h('h2', null, 'Invites for you'), list);

  function say(row, text) {
    let p = row.querySelector('.row-error');
    if (!p) {
      p = h('p', { class: 'row-error form-error', role: 'alert' });
      row.append(p);
    }
    p.textContent = text;
  }

  function row(inv) {
    const li = h('li', { class: 'team-row' });
    const accept = h('button', { type: 'button', class: 'btn btn-primary' }, 'Accept');
    const decline = h('button', { type: 'button', class: 'btn' }, 'Decline');
    let busy = false;
    const path = `/invites/${encodeURIComponent(inv.id)}`;

    async function join(confirm) {
      try {
        const done = await post(`${path}/accept`, confirm ? { confirm: true } : undefined);
        onJoined(done);
      } catch (err) {
        if (err.status === 409 && err.code === 'confirm_required' && !confirm) {
          if (await confirmInline(accept, confirmText(err.message), 'Yes, accept')) await join(true);
          return;
        }
        if (err.status === 409) say(li, `This invite cannot be accepted yet: ${err.message}`);
        else if (err.status === 410) say(li, 'This invite has ended. Ask for a new one.');
        else say(li, describe(err));
      }
    }

    accept.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      await join(false);
      busy = false;
    });
    decline.addEventListener('click', async () => {
      try {
        await post(`${path}/decline`);
      } catch (err) {
        say(li, describe(err));
        return;
      }
      toast('Invite declined.');
      const ul = li.parentNode;
      li.remove();
      if (ul && !ul.children.length) mount(list, empty('No invites for you'));
      else if (ul) ul.querySelector('button').focus();
    });

    const from = inv.invited_by_email || 'an owner';
    mount(li,
      h('div', { class: 'team-who' }, `Join as ${inv.role === 'owner' ? 'owner' : 'member'}, invited by `,
        h('span', { class: 'team-email' }, from)),
      h('div', { class: 'team-facts' },
        `Team ${inv.tenant} · invited ${fmtDate(inv.created)} · ends ${fmtDate(inv.expires)}`),
      h('div', { class: 'actions' }, accept, decline));
    return li;
  }

  /* invites are addressed to a proven e-mail; say so instead of "forbidden" */
  const load = () => get('/invites').catch((err) => {
    if (err.status === 403 && (err.code === 'email_not_verified' || err.code === 'no_email')) {
      return { invites: [], why: err.message };
    }
    throw err;
  });
  section(list, load, (data) => {
    if (data.why) {
      mount(list, h('p', { class: 'state' }, `Invites cannot be shown: ${data.why}`));
      return;
    }
    mount(list, data.invites.length
      ? h('ul', { class: 'team-list' }, data.invites.map(row))
      : empty('No invites for you'));
  });
}
