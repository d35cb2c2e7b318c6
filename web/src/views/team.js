/*
 * team.js - #/team: who is in the team, pending invites and the invite
 * form (owners), and the invites addressed to the signed-in user.
 *
 * This is the one page a user without a team can open (the API answers
 * 403 no_tenant everywhere else), so it shows only "Invites for you" to
 * them. Leaving or joining changes who the user is to the API, so both
 * re-read /me (ctx.refreshMe) before moving on: the header's role and
 * every later screen then follow the new membership.
 */

import { h, mount } from '../dom.js';
import { toast } from '../ui.js';
import { inviteForm } from './team_invite_form.js';
import { teamInvites } from './team_invites.js';
import { teamMembers } from './team_members.js';
import './team.css';

export function render(root, params, ctx) {
  ctx.setTitle('Team');
  const noTeam = Boolean(ctx.me && ctx.me.noTenant);
  const owner = !noTeam && ctx.isOwner();

  const joined = async (accepted) => {
    toast(`You joined the team as ${accepted.role}.${accepted.deleted_tenant ? ' Your former team and its data were deleted.' : ''}`);
    try {
      await ctx.refreshMe();
    } finally {
      ctx.navigate('#/topics');
    }
  };
  const left = async () => {
    toast('You left the team.');
    try {
      await ctx.refreshMe();
    } finally {
      ctx.navigate('#/team');
    }
  };

  const membersEl = h('section', { class: 'team-section' });
  const pendingEl = owner ? h('section', { class: 'team-section' }) : null;
  const formEl = owner ? h('section', { class: 'team-section' }) : null;
  const forYouEl = h('section', { class: 'team-section' });

  mount(root, h('h1', null, 'Team'),
    noTeam
      ? h('p', { class: 'lede' }, 'You are not a member of any team at the moment. Accept an invite below to join one.')
      : [membersEl, pendingEl, formEl],
    forYouEl);

  if (!noTeam) {
    const reload = teamMembers(membersEl, pendingEl, ctx, left);
    if (owner) inviteForm(formEl, reload);
  }
  teamInvites(forYouEl, joined);
  return undefined;
}
