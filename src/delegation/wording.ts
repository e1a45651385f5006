import type { Fact, Outcome } from '../cards/data';
import { formatDate, literal, possessive } from '../cards/format';
import { AUTO_EXTEND_DAYS, DEFAULT_DURATION_DAYS } from './rules';
import { confirmedWording, pendingLabel } from './gdap/wording';
import type { Audience, NoticeEvent } from './outbox';
import type { Relationship } from './types';

/*
 * What cards and messages say about where a relationship stands at Microsoft. A card states only what the system of
 * record confirmed (STYLE.md, 14). For a partner without Microsoft credentials a relationship is record-only: the bot
 * records the customer's answer and nothing is created or ended in Microsoft's systems. Its texts say what was recorded, who still has to do what, and how the customer ends
 * a partner's access themselves. A relationship the bot created through Graph is worded by `confirmedWording`
 * (./gdap/wording), chosen in `wordingFor`.
 */

/** The approver's name as people read it, or the address the request went to. */
export const who = (r: Relationship): string => (r.approver ? literal(r.approver.name) : r.approverEmail);

export const accessWords = (r: Relationship): string =>
  !r.access || r.access.kind === 'full' ? 'full administration' : r.access.roles.join(', ');

/** What the partner is to the customer. */
const ROLE: Record<Relationship['kind'], string> = { delegation: 'delegated-admin partner', por: 'partner of record' };

/** The headline and text of a note to one side; `style` is a Container style. */
export interface NoticeText {
  headline: string;
  detail: string;
  style: string;
  hint?: string;
}

/**
 * The notes whose words depend on what Microsoft knows; delivered, declined and requestExpired never do, and the two
 * that only a Graph-backed relationship has are worded once, beside them.
 */
export type StandingEvent = Exclude<NoticeEvent, 'delivered' | 'declined' | 'requestExpired' | 'endedAtMicrosoft' | 'microsoftProblem'>;

/** The states whose words depend on what Microsoft knows: the customer said yes, and later it ended. */
type Standing = Extract<Relationship['state'], 'active' | 'terminated'>;
const isStanding = (state: Relationship['state']): state is Standing => state === 'active' || state === 'terminated';

export interface RelationshipWording {
  /** The label of an approved (`active`) or ended (`terminated`) relationship. */
  standing(r: Relationship & { state: Standing }): string;
  /** The customer's card once approved or designated. */
  approved(r: Relationship): Outcome;
  /** The customer's card once revoked, replaced or run to the end of its term. */
  ended(r: Relationship): Outcome;
  /** Under a request: what approving does, and how to end it later. */
  requestNotes(r: Relationship): string[];
  /** The warning on a request that an approval replaces the customer's current partner (`current`). */
  replacesNote(r: Relationship, current: Relationship): string;
  /** The dated facts of a relationship's status: when it was approved, until when, when it ended. */
  dates(r: Relationship): Fact[];
  notices(r: Relationship, audience: Audience, o: { daysLeft?: number; by?: string }): Record<StandingEvent, NoticeText>;
  /** The partner channel's card of an approval or designation: its tag, headline, what was asked, and what to do next. */
  channel(r: Relationship, customer: string): { tag: string; headline: string; facts: Fact[]; next: string };
  /** `partners`: one section, for the customer's approved relationship of a kind, or none. */
  partnersSection(kind: Relationship['kind'], r: Relationship | null): { title: string; summary: string; facts: Fact[] };
  partnersHint: string;
  revokeConfirm(r: Relationship): { headline: string; detail: string; facts: Fact[]; confirmTitle: string };
  /** The confirmation card after "Keep it": its headline and what it says. */
  kept(r: Relationship): Outcome & { headline: string };
  /** The partner's answer to its own `delegate revoke`. */
  revokedByPartner(r: Relationship): string;
  nothingToRevoke: string;
}

/** How a customer's Global Administrator removes a partner's roles, as Microsoft documents it. */
const removeRoles = (partnerName: string) =>
  `Microsoft 365 admin center > Settings > Partner relationships, select ${partnerName}, then Remove roles`;
/** How a partner ends a GDAP relationship it holds, as Microsoft documents it. */
const TERMINATE = 'Partner Center (Customers > the customer > Admin relationships > the relationship > Terminate relationship)';
const PARTNER_RELATIONSHIPS = 'Settings > Partner relationships in the Microsoft 365 admin center';
const GLOBAL_ADMIN_APPROVES = 'only a Global Administrator of your organisation can approve it, in the Microsoft 365 admin center';

const days = (r: Relationship) => r.durationDays ?? DEFAULT_DURATION_DAYS;
const otherPartner = (r: Relationship, ref: Relationship['replaced']) => !!ref && ref.partnerTenantId !== r.partnerTenantId;

/** What the partner does next once the customer said yes: the bot has created nothing at Microsoft. */
function partnerNext(r: Relationship): string {
  return r.kind === 'delegation'
    ? `Create the delegated admin relationship in Partner Center (or through Microsoft Graph) with ${accessWords(r)} for ${days(r)} days${r.autoExtend ? `, auto-extended by ${AUTO_EXTEND_DAYS} days` : ''}, then send its approval link to a Global Administrator of the customer's organisation: only they can approve it, in the Microsoft 365 admin center.`
    : `Nothing is set at Microsoft yet: tell the customer how to name ${r.partnerName} partner of record there.`;
}

export const recordOnly: RelationshipWording = {
  standing(r) {
    if (r.state === 'active') return r.kind === 'delegation' ? 'Approved (recorded)' : 'Designated (recorded)';
    return r.endReason === 'replaced' ? 'Replaced (recorded)' : 'Revoked (recorded)';
  },

  approved(r) {
    const replaced = r.replaced;
    if (r.kind === 'por') {
      return {
        outcomeTitle: `Designated on ${formatDate(r.activatedAt)}: your choice is recorded`,
        outcomeDetail: `${r.partnerName} is recorded here as your partner of record. Nothing is set at Microsoft yet; ${r.partnerName} will tell you how to do that.${otherPartner(r, replaced) ? ` In this app it replaces ${replaced!.partnerName}.` : ''}`,
        outcomeStyle: 'good',
      };
    }
    const replaces = !replaced
      ? ''
      : replaced.atMicrosoft
        ? ` It replaces ${replaced.partnerName}, whose delegated admin relationship this app is ending at Microsoft; you are told when Microsoft confirms it.`
        : otherPartner(r, replaced)
          ? ` In this app it replaces ${replaced.partnerName}; any roles ${replaced.partnerName} holds stay until you remove them: ${removeRoles(replaced.partnerName)}.`
          : ` It replaces your earlier approval, ${replaced.id}.`;
    return {
      outcomeTitle: `Approved on ${formatDate(r.activatedAt)}: your consent is recorded`,
      outcomeDetail: `Nothing has changed in your organisation yet. ${r.partnerName} will create the delegated admin relationship in Partner Center and send you Microsoft's approval link; ${GLOBAL_ADMIN_APPROVES}.${replaces} Type revoke admin to withdraw your consent.`,
      outcomeStyle: 'good',
    };
  },

  ended(r) {
    if (r.state === 'expired') {
      return {
        outcomeTitle: `Your recorded consent ended on ${formatDate(r.endedAt)}`,
        outcomeDetail: `It reached the end of the term you approved. A delegated admin relationship at Microsoft ends on its own end date: see ${PARTNER_RELATIONSHIPS}.`,
        outcomeStyle: 'default',
      };
    }
    const on = formatDate(r.endedAt);
    if (r.endReason === 'replaced' && r.replacedBy && !otherPartner(r, r.replacedBy)) {
      return {
        outcomeTitle: `Renewed on ${on} by ${r.replacedBy.id}: recorded here`,
        outcomeDetail: `Your approval of ${r.replacedBy.id} took the place of this one. Nothing changed at Microsoft.`,
        outcomeStyle: 'default',
      };
    }
    const told = r.endReason === 'revokedByCustomer' || r.endReason === 'replaced';
    return {
      outcomeTitle:
        r.endReason === 'replaced'
          ? `Replaced on ${on} by ${r.replacedBy?.partnerName ?? 'another partner'}: recorded here`
          : r.endReason === 'revokedByPartner'
            ? `${r.partnerName} revoked this on ${on}: recorded here`
            : `Revoked on ${on}: recorded here`,
      outcomeDetail:
        r.kind === 'delegation'
          ? `This ends nothing at Microsoft by itself.${told ? ` ${r.partnerName} has been told.` : ''} To remove any roles ${r.partnerName} holds: ${removeRoles(r.partnerName)}.`
          : `Nothing changed at Microsoft.${told ? ` ${r.partnerName} has been told.` : ''}`,
      outcomeStyle: 'default',
    };
  },

  requestNotes(r) {
    return r.kind === 'delegation'
      ? [
          `Approving here records your consent; it gives ${r.partnerName} no access by itself. ${r.partnerName} then sends you Microsoft's approval link, and ${GLOBAL_ADMIN_APPROVES}.`,
          `To end it later, type revoke admin here and remove ${possessive(r.partnerName)} roles in the Microsoft 365 admin center (Settings > Partner relationships).`,
        ]
      : [
          `Designating here records your choice; ${r.partnerName} will tell you how to make it official at Microsoft.`,
          'You can designate another partner of record at any time.',
        ];
  },

  replacesNote(r, current) {
    const since = formatDate(current.activatedAt);
    if (current.partnerTenantId === r.partnerTenantId) {
      return `${r.partnerName} is recorded here as your ${ROLE[r.kind]} (since ${since}, ${current.id}). Approving replaces that relationship with this one.`;
    }
    if (r.kind === 'delegation' && current.graph?.id) {
      return `${current.partnerName} is your delegated-admin partner at Microsoft (since ${since}). Approving records ${r.partnerName} instead and asks Microsoft to end ${possessive(current.partnerName)} relationship; both are told.`;
    }
    return r.kind === 'delegation'
      ? `${current.partnerName} is recorded here as your delegated-admin partner (since ${since}). Approving records ${r.partnerName} instead, and both are told; any roles ${current.partnerName} holds at Microsoft stay until you remove them.`
      : `${current.partnerName} is recorded here as your partner of record (since ${since}). Designating records ${r.partnerName} instead, and both are told.`;
  },

  dates(r) {
    const f: Fact[] = [];
    if (r.activatedAt) f.push({ title: r.kind === 'delegation' ? 'Approved' : 'Designated', value: formatDate(r.activatedAt) });
    if (r.state === 'active' && r.endsAt) f.push({ title: 'Consent until', value: formatDate(r.endsAt) });
    if (r.endedAt) {
      const title = r.state !== 'terminated' ? 'Ended' : r.endReason === 'replaced' ? 'Replaced' : 'Revoked';
      f.push({ title, value: formatDate(r.endedAt) });
    }
    return f;
  },

  notices(r, audience, o) {
    const [partner, customer, id] = [r.partnerName, who(r), r.id];
    const delegation = r.kind === 'delegation';
    const ends = formatDate(r.endsAt);
    const endedOn = formatDate(r.endedAt);
    const replaced = r.replaced;
    const replaces = !replaced
      ? ''
      : replaced.atMicrosoft
        ? ` This replaces ${replaced.partnerName}, whose relationship at Microsoft this app is ending.`
        : otherPartner(r, replaced)
          ? ` This replaces ${replaced.partnerName} as their ${delegation ? 'delegated admin' : 'partner of record'} in this app only.`
          : ` It replaces your ${replaced.id} here.`;
    const toCustomer = audience === 'customer';
    const consent = toCustomer ? `the consent you gave ${partner} here` : `the consent ${customer} gave you here`;
    const Consent = consent[0]!.toUpperCase() + consent.slice(1);
    return {
      approved: delegation
        ? {
            headline: `${customer} approved ${id}`,
            detail: `Their consent is recorded here; it gives you no access yet. ${partnerNext(r)}${replaces}`,
            style: 'good',
          }
        : {
            headline: `${customer} designated you as partner of record (${id})`,
            detail: `Their choice is recorded here. ${partnerNext(r)}${replaces}`,
            style: 'good',
          },
      replaced: {
        headline: `${o.by ? literal(o.by) : customer} replaced you as ${ROLE[r.kind]}`,
        detail: delegation
          ? `They chose ${r.replacedBy?.partnerName ?? 'another partner'} on ${endedOn}, recorded here, which withdraws their consent to you (${id}). Nothing changed at Microsoft: end any delegated admin relationship you have with them in ${TERMINATE}.`
          : `They chose ${r.replacedBy?.partnerName ?? 'another partner'} on ${endedOn}, recorded here (${id}). Nothing changed at Microsoft.`,
        style: 'warning',
      },
      revokedByCustomer: {
        headline: `${customer} revoked ${id}`,
        detail: delegation
          ? `They withdrew their consent on ${endedOn}, recorded here. Nothing changed at Microsoft: end any delegated admin relationship you have with them in ${TERMINATE}.`
          : `They withdrew it on ${endedOn}, recorded here. Nothing changed at Microsoft.`,
        style: 'warning',
      },
      revokedByPartner: {
        headline: `${partner} revoked ${id}`,
        detail: delegation
          ? `${partner} recorded on ${endedOn} that it gives up delegated administration of your organisation. This ends nothing at Microsoft by itself. To remove any roles ${partner} holds: ${removeRoles(partner)}.`
          : `${partner} recorded on ${endedOn} that it steps down as your partner of record. Nothing changed at Microsoft.`,
        style: 'warning',
        hint: 'You can always contact Microsoft support directly: type support.',
      },
      ended: {
        headline: `${id}: recorded consent ended`,
        detail: `${Consent} reached the end of its term on ${endedOn}. A delegated admin relationship at Microsoft ends on its own end date${toCustomer ? `: see ${PARTNER_RELATIONSHIPS}.` : '. Send a new request if they still need you.'}`,
        style: 'default',
      },
      extended: {
        headline: `${id}: recorded consent extended`,
        detail: `${Consent} was extended by ${AUTO_EXTEND_DAYS} days, until ${ends}, as auto-extend asks. Nothing changed at Microsoft.`,
        style: 'default',
        hint: toCustomer ? 'Type revoke admin to withdraw it.' : '',
      },
      reminder: {
        headline: `${id}: recorded consent ${r.autoExtend ? 'is extended' : 'ends'} in ${o.daysLeft ?? '?'} day${o.daysLeft === 1 ? '' : 's'}`,
        detail: r.autoExtend
          ? `On ${ends} ${consent} is extended by ${AUTO_EXTEND_DAYS} days.`
          : `On ${ends} ${consent} ends.${toCustomer ? '' : ' Send a new request before then if they still need you.'}`,
        style: 'warning',
        hint: toCustomer ? (r.autoExtend ? 'Type revoke admin to stop it.' : 'Nothing to do if you are happy for it to end.') : '',
      },
    };
  },

  channel(r, customer) {
    return r.kind === 'delegation'
      ? {
          tag: 'DELEGATED ADMINISTRATION · CONSENT RECORDED',
          headline: `${customer} approved delegated-admin request ${r.id}`,
          facts: [
            { title: 'Asked for', value: accessWords(r) },
            { title: 'Duration', value: `${days(r)} days${r.autoExtend ? `, auto-extended by ${AUTO_EXTEND_DAYS} days` : ''}` },
          ],
          next: `Nothing exists at Microsoft yet. ${partnerNext(r)}`,
        }
      : {
          tag: 'PARTNER OF RECORD · CHOICE RECORDED',
          headline: `${customer} chose ${r.partnerName} as partner of record (${r.id})`,
          facts: [],
          next: partnerNext(r),
        };
  },

  partnersSection(kind, r) {
    if (kind === 'por') {
      return r
        ? {
            title: 'Partner of record',
            summary: `${r.partnerName} (${r.id}) is recorded here as your partner of record.`,
            facts: [
              { title: 'Designated', value: formatDate(r.activatedAt) },
              { title: 'Designated by', value: who(r) },
            ],
          }
        : { title: 'Partner of record', summary: 'You have not designated a partner of record through this app.', facts: [] };
    }
    return r
      ? {
          title: 'Delegated administration',
          summary: `${r.partnerName} (${r.id}) is recorded here as your delegated-admin partner, with ${accessWords(r)}. This app records your consent only; which partners have roles in your organisation is shown in ${PARTNER_RELATIONSHIPS}.`,
          facts: [
            { title: 'Approved', value: formatDate(r.activatedAt) },
            {
              title: 'Consent until',
              value: `${formatDate(r.endsAt)}${r.autoExtend ? ` (then extended by ${AUTO_EXTEND_DAYS} days)` : ''}`,
            },
            { title: 'Approved by', value: who(r) },
          ],
        }
      : { title: 'Delegated administration', summary: 'No delegated-admin consent is recorded in this app.', facts: [] };
  },

  partnersHint: 'Type revoke admin to withdraw your delegated-admin consent.',

  revokeConfirm(r) {
    const open = r.state === 'active';
    return {
      headline: open ? `Withdraw your consent to ${r.partnerName}?` : `Your consent to ${r.partnerName}`,
      detail: open
        ? `Revoking records that you withdraw the consent you gave ${r.partnerName} here (${accessWords(r)}), and ${r.partnerName} is told. It does not remove ${possessive(r.partnerName)} roles at Microsoft; a Global Administrator does that: ${removeRoles(r.partnerName)}.`
        : '',
      facts: [
        { title: 'Relationship', value: r.id },
        { title: 'Approved', value: formatDate(r.activatedAt) },
        ...(open && r.endsAt ? [{ title: 'Consent until', value: formatDate(r.endsAt) }] : []),
      ],
      confirmTitle: `Revoke consent to ${r.partnerName}`,
    };
  },

  kept: (r) => ({
    headline: `Your consent to ${r.partnerName}`,
    outcomeTitle: 'Nothing changed',
    outcomeDetail: `Your consent to ${r.partnerName} stays recorded. Type revoke admin if you change your mind.`,
    outcomeStyle: 'default',
  }),

  revokedByPartner: (r) =>
    r.kind === 'delegation'
      ? `${who(r)} has been told. This ends nothing at Microsoft: end any delegated admin relationship you have with them in ${TERMINATE}.`
      : `${who(r)} has been told that you step down as their partner of record. Nothing changed at Microsoft.`,

  nothingToRevoke: `No delegated-admin consent is recorded in this app, so there is nothing to revoke here. Partners with roles in your organisation are listed in ${PARTNER_RELATIONSHIPS}.`,
};

/** The wording for a relationship: backed by what Graph reported when the bot created it at Microsoft, else record-only. */
export const wordingFor = (r?: Relationship | null): RelationshipWording => (r?.graph ? confirmedWording : recordOnly);

/** A request's own states, which mean the same whatever Microsoft knows. */
const REQUEST_LABEL: Record<Exclude<Relationship['state'], Standing>, string> = {
  awaitingDelivery: 'Waiting for the customer to install the app',
  approvalPending: 'Waiting for an answer',
  declined: 'Declined',
  expired: 'Expired',
  withdrawn: 'Withdrawn with its offer',
  terminationRequested: 'Ending: asked Microsoft, not confirmed yet',
};

/** The label of an approved or ended relationship (the Offers tab shows it); undefined for a request's own states. */
export function standingLabel(r: Relationship): string | undefined {
  const state = r.state;
  return isStanding(state) ? wordingFor(r).standing({ ...r, state }) : undefined;
}

/** A relationship's state as a label (a card's Status, a list's column), written as the offers' states are. */
export function stateLabel(r: Relationship): string {
  const state = r.state;
  return isStanding(state) ? wordingFor(r).standing({ ...r, state }) : (pendingLabel(r) ?? REQUEST_LABEL[state]);
}

/** The same, inside a sentence ("D-4K7P2Q is revoked (recorded), so ..."). */
export const stateWords = (r: Relationship): string => {
  const label = stateLabel(r);
  return label[0]!.toLowerCase() + label.slice(1);
};
