import type { Fact } from '../../cards/data';
import { formatDate, possessive } from '../../cards/format';
import { AUTO_EXTEND_DAYS } from '../rules';
import type { Relationship } from '../types';
import { accessWords, who, type RelationshipWording } from '../wording';

/*
 * What cards and messages say about a delegation backed by a real GDAP relationship. Every "active" and "ended" here
 * is what Microsoft Graph reported (the watcher moves the relationship only on Graph's word), and the dates are
 * Graph's own: activatedDateTime, endDateTime.
 */

const removeRoles = (partnerName: string) =>
  `Microsoft 365 admin center > Settings > Partner relationships, select ${partnerName}, then Remove roles`;
const otherPartner = (r: Relationship, ref: Relationship['replaced']) => !!ref && ref.partnerTenantId !== r.partnerTenantId;
const until = (r: Relationship) =>
  `${formatDate(r.endsAt)}${r.autoExtend ? `, then extended by ${AUTO_EXTEND_DAYS} days at a time unless it is ended` : ''}`;

export const confirmedWording: RelationshipWording = {
  standing(r) {
    if (r.state === 'active') return 'Active at Microsoft';
    return r.endReason === 'replaced' ? 'Ended at Microsoft (replaced)' : 'Ended at Microsoft';
  },

  approved(r) {
    const replaced = r.replaced;
    const replaces = !replaced
      ? ''
      : !replaced.atMicrosoft
        ? ` ${replaced.partnerName} was recorded here as your delegated-admin partner and is replaced here; any roles ${replaced.partnerName} holds at Microsoft stay until you remove them: ${removeRoles(replaced.partnerName)}.`
        : otherPartner(r, replaced)
          ? ` It replaces ${replaced.partnerName}, whose relationship is being ended at Microsoft; you are told when Microsoft confirms it.`
          : ` It replaces ${replaced.id}, which is being ended at Microsoft.`;
    return {
      outcomeTitle: `Active since ${formatDate(r.activatedAt)} until ${formatDate(r.endsAt)}`,
      outcomeDetail: `Microsoft reports this relationship active: ${r.partnerName} has ${accessWords(r)} in your organisation until ${until(r)}.${replaces} To end it, type revoke admin, or ${removeRoles(r.partnerName)}.`,
      outcomeStyle: 'good',
    };
  },

  ended(r) {
    const on = formatDate(r.endedAt);
    if (r.state === 'expired') {
      return {
        outcomeTitle: `Ended on ${on}`,
        outcomeDetail: `Microsoft reports the relationship reached its end date. ${r.partnerName} has no roles in your organisation through it any more.`,
        outcomeStyle: 'default',
      };
    }
    const title: Record<string, string> = {
      replaced: `Ended at Microsoft on ${on}: replaced by ${r.replacedBy?.partnerName ?? 'another partner'}`,
      revokedByCustomer: `Ended at Microsoft on ${on}, as you asked`,
      revokedByPartner: `${r.partnerName} ended it at Microsoft on ${on}`,
      endedAtMicrosoft: `Ended at Microsoft on ${on}`,
    };
    return {
      outcomeTitle: title[r.endReason ?? 'endedAtMicrosoft'] ?? title.endedAtMicrosoft!,
      outcomeDetail:
        r.endReason === 'endedAtMicrosoft'
          ? `Microsoft reports it was ended outside this app (in the Microsoft 365 admin center or Partner Center). ${r.partnerName} has no roles in your organisation through it any more.`
          : `Microsoft reports the relationship ended. ${r.partnerName} has no roles in your organisation through it any more.`,
      outcomeStyle: 'default',
    };
  },

  requestNotes(r) {
    return [
      `Only a Global Administrator of your organisation can approve this, in the Microsoft 365 admin center: the button opens Microsoft's own page for this request, which shows the same partner, roles and duration. Nothing changes until it is approved there.`,
      `Once Microsoft reports it active, this card says so. To end it later, type revoke admin here, or ${removeRoles(r.partnerName)}.`,
    ];
  },

  replacesNote(r, current) {
    const since = formatDate(current.activatedAt);
    if (current.partnerTenantId === r.partnerTenantId) {
      return `${r.partnerName} is already your delegated-admin partner (since ${since}, ${current.id}). Once this one is approved at Microsoft, ${current.id} is ended there.`;
    }
    return current.graph?.id
      ? `${current.partnerName} is your delegated-admin partner (since ${since}). Once this is approved at Microsoft, this app asks Microsoft to end ${possessive(current.partnerName)} relationship, and both partners are told.`
      : `${current.partnerName} is recorded here as your delegated-admin partner (since ${since}). Once this is approved at Microsoft, ${current.partnerName} is replaced here; any roles ${current.partnerName} holds at Microsoft stay until you remove them: ${removeRoles(current.partnerName)}.`;
  },

  dates(r) {
    const f: Fact[] = [];
    if (r.activatedAt) f.push({ title: 'Active since', value: formatDate(r.activatedAt) });
    if (r.state === 'active' && r.endsAt) f.push({ title: 'Until', value: until(r) });
    if (r.endedAt) f.push({ title: 'Ended', value: formatDate(r.endedAt) });
    return f;
  },

  notices(r, audience, o) {
    const [partner, customer, id] = [r.partnerName, who(r), r.id];
    const endedOn = formatDate(r.endedAt);
    const toCustomer = audience === 'customer';
    const replaced =
      r.replaced && otherPartner(r, r.replaced)
        ? r.replaced.atMicrosoft
          ? ` It replaces ${r.replaced.partnerName}, whose relationship is being ended at Microsoft.`
          : ` It replaces ${r.replaced.partnerName}, recorded here as their delegated-admin partner until now.`
        : '';
    return {
      approved: {
        // Graph does not say which Global Administrator approved: the organisation did.
        headline: `${r.customerOrg?.displayName ?? `${customer}'s organisation`} approved ${id} at Microsoft`,
        detail: `Microsoft reports the relationship active since ${formatDate(r.activatedAt)}, with ${accessWords(r)} until ${until(r)}. I'm creating the access assignments for your security groups; type status ${id} to see them.${replaced}`,
        style: 'good',
      },
      replaced: {
        headline: `${o.by ? o.by : customer} replaced you as delegated-admin partner`,
        detail: `They chose ${r.replacedBy?.partnerName ?? 'another partner'}${r.replacedBy?.atMicrosoft ? ' at Microsoft' : ' in this app'}, so this app asked Microsoft to end ${id}. Microsoft reports it ended on ${endedOn}.`,
        style: 'warning',
      },
      revokedByCustomer: toCustomer
        ? {
            headline: `${id} ended at Microsoft, as you asked`,
            detail: `Microsoft reports the relationship ended on ${endedOn}: ${partner} has no roles in your organisation through it any more.`,
            style: 'good',
          }
        : {
            headline: `${customer} ended ${id}`,
            detail: `They revoked your delegated administration, and Microsoft reports the relationship ended on ${endedOn}.`,
            style: 'warning',
          },
      revokedByPartner: toCustomer
        ? {
            headline: `${partner} ended ${id}`,
            detail: `${partner} gave up delegated administration of your organisation, and Microsoft reports the relationship ended on ${endedOn}.`,
            style: 'warning',
            hint: 'You can always contact Microsoft support directly: type support.',
          }
        : {
            headline: `${id} ended at Microsoft`,
            detail: `Microsoft reports the relationship ended on ${endedOn}, as you asked. ${customer} has been told.`,
            style: 'default',
          },
      ended: {
        headline: `${id} ended`,
        detail: `Microsoft reports the relationship reached its end date on ${endedOn}.${toCustomer ? '' : ' Send a new request if they still need you.'}`,
        style: 'default',
      },
      extended: {
        headline: `${id} extended at Microsoft`,
        detail: `Microsoft extended it by ${AUTO_EXTEND_DAYS} days, as auto-extend asks: it now runs until ${formatDate(r.endsAt)}.`,
        style: 'default',
        hint: toCustomer ? 'Type revoke admin to end it.' : '',
      },
      reminder: {
        headline: `${id} ${r.autoExtend ? 'is extended' : 'ends'} in ${o.daysLeft ?? '?'} day${o.daysLeft === 1 ? '' : 's'}`,
        detail: r.autoExtend
          ? `On ${formatDate(r.endsAt)} (Microsoft's end date) Microsoft extends it by ${AUTO_EXTEND_DAYS} days.`
          : `On ${formatDate(r.endsAt)} (Microsoft's end date) the relationship ends.${toCustomer ? '' : ' Send a new request before then if they still need you.'}`,
        style: 'warning',
        hint: toCustomer ? (r.autoExtend ? 'Type revoke admin to end it.' : 'Nothing to do if you are happy for it to end.') : '',
      },
    };
  },

  channel(r, customer) {
    return {
      tag: 'DELEGATED ADMINISTRATION · ACTIVE AT MICROSOFT',
      headline: `${customer} approved delegated-admin relationship ${r.id} at Microsoft`,
      facts: [
        { title: 'Roles', value: accessWords(r) },
        { title: 'Active since', value: formatDate(r.activatedAt) },
        { title: 'Until', value: until(r) },
        ...(r.graph?.id ? [{ title: 'At Microsoft', value: r.graph.id }] : []),
      ],
      next: `Microsoft reports it active. Your security groups get their roles through access assignments, which I create now: type status ${r.id} to see them.`,
    };
  },

  partnersSection(_kind, r) {
    if (!r) return { title: 'Delegated administration', summary: 'No delegated-admin partner through this app.', facts: [] };
    return {
      title: 'Delegated administration',
      summary: `${r.partnerName} (${r.id}) is your delegated-admin partner: Microsoft reports the relationship active, with ${accessWords(r)}.`,
      facts: [
        { title: 'Active since', value: formatDate(r.activatedAt) },
        { title: 'Until', value: until(r) },
      ],
    };
  },

  partnersHint: "Type revoke admin to end your delegated-admin partner's access at Microsoft.",

  revokeConfirm(r) {
    const open = r.state === 'active';
    return {
      headline: open
        ? `End ${possessive(r.partnerName)} delegated administration?`
        : `${possessive(r.partnerName)} delegated administration`,
      detail: open
        ? `This asks Microsoft to end the relationship (${accessWords(r)}). ${r.partnerName} loses its roles in your organisation when Microsoft has ended it; you and ${r.partnerName} are told when Microsoft confirms.`
        : '',
      facts: [
        { title: 'Relationship', value: r.id },
        { title: 'Active since', value: formatDate(r.activatedAt) },
        ...(open && r.endsAt ? [{ title: 'Until', value: formatDate(r.endsAt) }] : []),
      ],
      confirmTitle: `End ${possessive(r.partnerName)} access`,
    };
  },

  kept: (r) => ({
    headline: `${possessive(r.partnerName)} delegated administration`,
    outcomeTitle: 'Nothing changed',
    outcomeDetail: `The relationship stays active at Microsoft. Type revoke admin if you change your mind.`,
    outcomeStyle: 'default',
  }),

  revokedByPartner: (r) =>
    `I asked Microsoft to end it${r.graph?.id ? ` (relationship ${r.graph.id})` : ''}. You and ${who(r)} are told once Microsoft reports it ended.`,

  nothingToRevoke:
    'You have no active delegated-admin partner through this app, so there is nothing to revoke here. Partners with roles in your organisation are listed in Settings > Partner relationships in the Microsoft 365 admin center.',
};

/** A Graph-backed request or relationship while Microsoft has not confirmed where it stands. */
export function pendingLabel(r: Relationship): string | undefined {
  if (!r.graph) return undefined;
  if (r.state === 'approvalPending') return r.graph.cardQueued ? 'Waiting for approval at Microsoft' : 'Being created at Microsoft';
  if (r.state === 'terminationRequested') return 'Ending: asked Microsoft, not confirmed yet';
  return undefined;
}

/** The partner's view of the real relationship: Graph's id and status, when it was read, assignments, any problem. */
export function microsoftFacts(r: Relationship): Fact[] {
  const g = r.graph;
  if (!g) return [];
  const f: Fact[] = [
    { title: 'At Microsoft', value: g.id ? `${g.status ?? 'unknown'} · ${g.id}` : 'not created yet' },
    { title: 'Name at Microsoft', value: g.displayName },
  ];
  if (g.checkedAt) f.push({ title: 'Checked', value: `${formatDate(g.checkedAt)}, ${g.checkedAt.slice(11, 16)} UTC` });
  for (const a of g.assignments ?? []) {
    f.push({ title: 'Access assignment', value: `group ${a.groupId}: ${a.status ?? 'not created yet'}` });
  }
  if (g.problem) f.push({ title: 'Problem', value: `${g.problem.message} (will try again)` });
  return f;
}
