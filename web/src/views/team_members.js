/*
 * team_members.js - the "Members" and "Pending invites" sections of
 * #/team, both from one GET /members.
 *
 * What a row offers follows the API's roles: an owner can remove anyone
 * (the API refuses the last owner, and that refusal is shown as it is
 * worded), anyone can remove themself, which is leaving the team; members
 * see who else is there and nothing they could not do. Every removal asks
 * first (confirmInline), because it takes effect on every server within a
 * second. Pending invites, and withdrawing them, are for owners only.
 */

import { del, get } from '../api.js';
import { h, mount } from '../dom.js';
import { fmtDate } from '../format.js';
import { confirmInline, describe, empty, loading, section, toast } from '../ui.js';

function roleName(role) {
  return role === 'owner' ? 'Owner' : 'Member';
}

/*
 * Renders both sections into membersEl and invitesEl (invitesEl null for
 * members). onLeft() runs after the user removed themself. Returns
 * reload(), for after an invite was sent.
 */
export function teamMembers(membersEl, invitesEl, ctx, onLeft) {
  const owner = ctx.isOwner();
  const list = h('div');
  const pending = h('div');
  mount(membersEl, h('h2', null, 'Members'), list);
  if (invitesEl) mount(invitesEl, h('h2', null, 'Pending invites'), pending);

  function problem(row, err) {
    let p = row.querySelector('.row-error');
    if (!p) {
      p = h('p', { class: 'row-error form-error', role: 'alert' });
      row.append(p);
    }
    p.textContent = describe(err);
  }

  function memberRow(m) {
    const self = m.sub === ctx.me.sub;
    const li = h('li', { class: 'team-row' });
    let action = null;
    if (self || owner) {
      action = h('button', { type: 'button', class: 'btn btn-danger' }, self ? 'Leave team' : 'Remove');
      action.addEventListener('click', async () => {
        const question = self
          ? 'Leave this team? You lose access to its topics until someone invites you again.'
          : `Remove ${m.email || 'this member'} from the team? They lose access at once.`;
        if (!await confirmInline(action, question, self ? 'Yes, leave' : 'Yes, remove')) return;
        try {
          await del(`/members/${encodeURIComponent(m.sub)}`);
        } catch (err) {
          problem(li, err);
          return;
        }
        if (self) {
          onLeft();
          return;
        }
        toast(`${m.email || 'The member'} was removed.`);
        li.remove();
      });
    }
    mount(li,
      h('div', { class: 'team-who' },
        h('span', { class: 'team-email' }, m.email || '(no e-mail)'), self ? ' (you)' : ''),
      h('div', { class: 'team-facts' }, `${roleName(m.role)} · joined ${fmtDate(m.joined)}`),
      action ? h('div', { class: 'actions' }, action) : null);
    return li;
  }

  function inviteRow(inv) {
    const li = h('li', { class: 'team-row' });
    const withdraw = h('button', { type: 'button', class: 'btn' }, 'Withdraw');
    withdraw.addEventListener('click', async () => {
      try {
        await del(`/members/invites/${encodeURIComponent(inv.email)}`);
      } catch (err) {
        problem(li, err);
        return;
      }
      toast(`The invite to ${inv.email} was withdrawn.`);
      const ul = li.parentNode;
      li.remove();
      if (ul && !ul.children.length) mount(pending, empty('No pending invites'));
      else if (ul) ul.querySelector('button').focus();
    });
    mount(li,
      h('div', { class: 'team-who' }, h('span', { class: 'team-email' }, inv.email)),
      h('div', { class: 'team-facts' },
        `${roleName(inv.role)} · invited ${fmtDate(inv.created)}${inv.expires ? ` · ends ${fmtDate(inv.expires)}` : ''}`),
      h('div', { class: 'actions' }, withdraw));
    return li;
  }

  async function reload() {
    if (invitesEl) mount(pending, loading());
    const data = await section(list, () => get('/members'), (d) => {
      mount(list, h('ul', { class: 'team-list' }, d.members.map(memberRow)));
      if (!invitesEl) return;
      mount(pending, d.invites.length
        ? h('ul', { class: 'team-list' }, d.invites.map(inviteRow))
        : empty('No pending invites'));
    });
    if (!data && invitesEl) mount(pending, h('p', { class: 'muted' }, 'Not shown: the team could not be read.'));
  }

  reload();
  return reload;
}
