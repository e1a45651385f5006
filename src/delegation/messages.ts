import type { Activity, Attachment } from 'botbuilder';
import type { DelegationRequestCardData, Fact, Outcome, RequestPart, Role } from '../cards/data';
import type { CardRenderer } from '../cards/render';
import { formatDate, formatDateTime, literal, possessive } from '../cards/format';
import type { ResponseRecord } from '../responses/types';
import { findRole } from './roles';
import { AUTO_EXTEND_DAYS, DEFAULT_DURATION_DAYS, isOpen, KIND_NAME } from './rules';
import { STATE_LABEL, type Audience, type NoticeEvent } from './service';
import type { Relationship } from './types';

const TAG = { delegation: 'DELEGATED ADMINISTRATION', por: 'PARTNER OF RECORD' } as const;
const STATE_COLOR: Record<Relationship['state'], string> = {
  awaitingDelivery: 'Warning',
  approvalPending: 'Default',
  active: 'Good',
  declined: 'Attention',
  expired: 'Default',
  terminated: 'Default',
  withdrawn: 'Default',
};

/** What the partner is to the customer. */
const ROLE: Record<Relationship['kind'], string> = { delegation: 'delegated-admin partner', por: 'partner of record' };

const FULL_ACCESS = {
  name: 'Full administration',
  allows:
    'Everything a Global Administrator can do: every setting, user, licence and service in your organisation (the classic delegated admin).',
};

/**
 * Each role with what it allows, in words a customer admin can judge. The descriptions speak to the customer ("your
 * organisation"); the partner's copy says whose organisation it is.
 */
export function rolesOf(r: Relationship, audience: Audience = 'customer'): Role[] {
  if (r.kind !== 'delegation') return [];
  const roles =
    !r.access || r.access.kind === 'full' ? [FULL_ACCESS] : r.access.roles.map((name) => ({ name, allows: findRole(name)?.allows ?? '' }));
  return audience === 'customer'
    ? roles
    : roles.map((role) => ({ ...role, allows: role.allows.replaceAll('your organisation', "the customer's organisation") }));
}

const accessWords = (r: Relationship): string =>
  !r.access || r.access.kind === 'full' ? 'full administration' : r.access.roles.join(', ');

const who = (r: Relationship): string => (r.approver ? literal(r.approver.name) : r.approverEmail);
/** The customer as a partner recognises it: the approver's email domain. */
const customerOf = (r: Relationship): string => r.approverEmail.split('@')[1] ?? r.approverEmail;
const duration = (r: Relationship) => `${r.durationDays ?? DEFAULT_DURATION_DAYS} days from approval`;

const card = (attachment: Attachment): Partial<Activity> => ({ type: 'message', attachments: [attachment] });

function outcome(r: Relationship): Outcome {
  const kind = KIND_NAME[r.kind];
  switch (r.state) {
    case 'active':
      return r.kind === 'delegation'
        ? {
            outcomeTitle: `Approved on ${formatDate(r.activatedAt)}`,
            outcomeDetail: `${r.partnerName} has ${accessWords(r)} until ${formatDate(r.endsAt)}${r.autoExtend ? `, extended by ${AUTO_EXTEND_DAYS} days each time unless you revoke it` : ''}.${r.replaced ? ` This replaced ${r.replaced.partnerName}.` : ''} Type revoke admin to end it.`,
            outcomeStyle: 'good',
          }
        : {
            outcomeTitle: `Designated on ${formatDate(r.activatedAt)}`,
            outcomeDetail: `${r.partnerName} is your partner of record.${r.replaced ? ` This replaced ${r.replaced.partnerName}.` : ''}`,
            outcomeStyle: 'good',
          };
    case 'declined':
      return {
        outcomeTitle: `Declined on ${formatDate(r.decidedAt)}`,
        outcomeDetail: `${r.partnerName} has been told.`,
        outcomeStyle: 'attention',
      };
    case 'expired':
      return r.activatedAt
        ? {
            outcomeTitle: `Ended on ${formatDate(r.endedAt)}`,
            outcomeDetail: `The ${kind} reached the end of its term.`,
            outcomeStyle: 'default',
          }
        : {
            outcomeTitle: `This request expired on ${formatDate(r.requestExpiresAt)}`,
            outcomeDetail: `It was not answered within 90 days, so it can no longer be answered. Ask ${r.partnerName} to send a new one if you still want this.`,
            outcomeStyle: 'warning',
          };
    case 'withdrawn':
      return {
        outcomeTitle: `${r.partnerName} withdrew this request with its offer`,
        outcomeDetail: 'It can no longer be answered.',
        outcomeStyle: 'warning',
      };
    case 'terminated':
      return {
        outcomeTitle:
          r.endReason === 'replaced'
            ? `Replaced on ${formatDate(r.endedAt)} by ${r.replacedBy?.partnerName ?? 'another partner'}`
            : r.endReason === 'revokedByPartner'
              ? `${r.partnerName} ended this on ${formatDate(r.endedAt)}`
              : `Revoked on ${formatDate(r.endedAt)}`,
        outcomeDetail: `${r.partnerName} no longer holds this ${kind}.`,
        outcomeStyle: 'default',
      };
    default:
      return { outcomeTitle: '', outcomeDetail: '', outcomeStyle: 'default' };
  }
}

/** The data of one request's section on a card: what is asked, in plain words, and its buttons while open. */
export function requestPart(r: Relationship, replaces: Relationship | null): RequestPart {
  const delegation = r.kind === 'delegation';
  const facts: Fact[] = delegation
    ? [
        { title: 'Duration', value: duration(r) },
        {
          title: 'At the end',
          value: r.autoExtend
            ? `Extended by ${AUTO_EXTEND_DAYS} days each time, unless you revoke it`
            : `Access ends; ${r.partnerName} has to ask again`,
        },
      ]
    : [{ title: 'Access', value: 'None: a partner of record gets no access to your data or settings' }];
  if (isOpen(r)) facts.push({ title: 'Answer by', value: formatDate(r.requestExpiresAt) });
  return {
    relationshipId: r.id,
    partnerName: r.partnerName,
    title: delegation ? `Delegated administration · ${r.id}` : `Partner of record · ${r.id}`,
    summary: delegation
      ? `${r.partnerName} asks to administer your organisation's Microsoft 365 on your behalf with:`
      : `${r.partnerName} asks to be your partner of record: the partner credited for advising you on your Microsoft purchases. It does not change who your delegated admin is.`,
    roles: rolesOf(r),
    facts,
    replacesNote:
      replaces && isOpen(r)
        ? replaces.partnerTenantId === r.partnerTenantId
          ? `${r.partnerName} is your ${ROLE[r.kind]} now (since ${formatDate(replaces.activatedAt)}, ${replaces.id}). Approving replaces that relationship with this one.`
          : `${replaces.partnerName} is your ${ROLE[r.kind]} now (since ${formatDate(replaces.activatedAt)}). Approving makes ${r.partnerName} your ${ROLE[r.kind]} instead and ends ${possessive(replaces.partnerName)}; both are told.`
        : '',
    notes: delegation
      ? [
          { text: 'You can end this at any time: type revoke admin in this chat, or use the Microsoft 365 admin center.' },
          { text: 'You can always contact Microsoft support directly, whoever your delegated admin is: type support.' },
        ]
      : [{ text: 'You can designate another partner of record at any time.' }],
    isOpen: isOpen(r),
    approveTitle:
      replaces && replaces.partnerTenantId !== r.partnerTenantId
        ? `Replace ${replaces.partnerName}`
        : delegation
          ? 'Approve'
          : `Designate ${r.partnerName}`,
    approveVerb: delegation ? 'delegation.approve' : 'por.accept',
    declineVerb: delegation ? 'delegation.decline' : 'por.decline',
    declineTitle: 'Decline',
    replaces: replaces?.id ?? '',
    reasonInputId: `reason_${r.kind}`,
    ...outcome(r),
  };
}

const history = (responses: ResponseRecord[]) =>
  responses.map((x) => ({
    text: `${formatDateTime(x.at)}: ${x.decision} by ${literal(x.by.name)}${x.by.upn ? ` (${x.by.upn})` : ''}${x.comment ? `: "${literal(x.comment)}"` : ''}`,
  }));

function facts(r: Relationship): Fact[] {
  const f = [
    { title: 'Id', value: r.id },
    { title: 'Kind', value: r.kind === 'delegation' ? 'Delegated administration' : 'Partner of record' },
    { title: 'Customer', value: r.approver ? `${literal(r.approver.name)} (${r.approverEmail})` : r.approverEmail },
    { title: 'Status', value: STATE_LABEL[r.state] },
  ];
  if (r.kind === 'delegation')
    f.push({ title: 'Duration', value: `${r.durationDays ?? DEFAULT_DURATION_DAYS} days${r.autoExtend ? ', auto-extend' : ''}` });
  if (r.offerId) f.push({ title: 'On offer', value: r.offerId });
  if (isOpen(r)) f.push({ title: 'Request expires', value: formatDate(r.requestExpiresAt) });
  if (r.activatedAt) f.push({ title: 'Active since', value: formatDate(r.activatedAt) });
  if (r.state === 'active' && r.endsAt) f.push({ title: 'Ends', value: formatDate(r.endsAt) });
  if (r.endedAt) f.push({ title: 'Ended', value: formatDate(r.endedAt) });
  return f;
}

export function createDelegationMessages(cards: CardRenderer) {
  /** A relationship summed up for one side: the partner's (status, confirmations) unless a notice names the customer. */
  const summary = (
    r: Relationship,
    o: {
      headline: string;
      detail?: string;
      style?: string;
      responses?: ResponseRecord[];
      hint?: string;
      installLink?: string;
      audience?: Audience;
    },
  ) =>
    cards.attachment('relationship-summary', {
      headline: o.headline,
      detail: o.detail ?? '',
      style: o.style ?? 'default',
      facts: facts(r),
      roles: rolesOf(r, o.audience ?? 'partner'),
      history: history(o.responses ?? []),
      hint: o.hint ?? '',
      installLink: o.installLink ?? '',
    });

  const requestCardData = (r: Relationship, replaces: Relationship | null): DelegationRequestCardData => ({
    ...requestPart(r, replaces),
    // The card's own header already names the request and its id.
    title: 'What is asked',
    kindTag: TAG[r.kind],
    headline:
      r.kind === 'delegation' ? `${r.partnerName} asks for delegated administration` : `${r.partnerName} asks to be your partner of record`,
    intro: `Hello ${who(r)}, please review this request. Nothing changes unless you approve it.`,
    refreshVerb: r.kind === 'delegation' ? 'delegation.view' : 'por.view',
    refreshUserIds: r.approver ? [r.approver.userId] : [],
  });

  /** A note to one side about something that happened to a relationship. */
  function notice(
    r: Relationship,
    audience: Audience,
    event: NoticeEvent,
    o: { daysLeft?: number; comment?: string; by?: string } = {},
  ): Partial<Activity> {
    const kind = KIND_NAME[r.kind];
    const ends = formatDate(r.endsAt);
    const texts: Record<NoticeEvent, { headline: string; detail: string; style: string; hint?: string }> = {
      delivered: {
        headline: `${r.id} reached ${who(r)}`,
        detail: `They installed the app, so your ${kind} request is now in their chat.`,
        style: 'default',
      },
      approved:
        r.kind === 'delegation'
          ? {
              headline: `${who(r)} approved ${r.id}`,
              detail: `You have ${accessWords(r)} until ${ends}.${r.replaced ? ` This replaces ${r.replaced.partnerName} as their delegated admin.` : ''} Set up the relationship in Partner Center.`,
              style: 'good',
            }
          : {
              headline: `${who(r)} designated you as partner of record (${r.id})`,
              detail: `You are now their partner of record.${r.replaced ? ` This replaces ${r.replaced.partnerName}.` : ''}`,
              style: 'good',
            },
      declined: {
        headline: `${who(r)} declined ${r.id}`,
        detail: o.comment ? `Their reason: "${literal(o.comment)}"` : 'They gave no reason.',
        style: 'attention',
      },
      requestExpired: {
        headline: `${r.id} expired without an answer`,
        detail: `${who(r)} did not answer your ${kind} request within 90 days.`,
        style: 'warning',
      },
      replaced: {
        headline: `${o.by ? literal(o.by) : who(r)} replaced you as ${ROLE[r.kind]}`,
        detail: `They chose ${r.replacedBy?.partnerName ?? 'another partner'} on ${formatDate(r.endedAt)}, so ${r.id} ended then.`,
        style: 'warning',
      },
      revokedByCustomer: {
        headline: `${who(r)} revoked ${r.id}`,
        detail: `Your ${kind} ended on ${formatDate(r.endedAt)}.`,
        style: 'warning',
      },
      revokedByPartner: {
        headline: `${r.partnerName} ended its ${kind}`,
        detail: `${r.partnerName} no longer has ${r.kind === 'delegation' ? 'admin access to your organisation' : 'that role'} since ${formatDate(r.endedAt)} (${r.id}).`,
        style: 'warning',
        hint: 'You can always contact Microsoft support directly: type support.',
      },
      ended: {
        headline: `${r.id} ended`,
        detail:
          audience === 'partner'
            ? `Your ${kind} with ${who(r)} reached its end on ${formatDate(r.endedAt)}. Send a new request if they still need you.`
            : `${possessive(r.partnerName)} ${kind} reached its end on ${formatDate(r.endedAt)}.`,
        style: 'default',
      },
      extended: {
        headline: `${r.id} was extended`,
        detail: `The ${kind} between ${r.partnerName} and ${who(r)} was extended automatically by ${AUTO_EXTEND_DAYS} days, until ${ends}.`,
        style: 'default',
        hint: audience === 'customer' ? 'Type revoke admin to end it.' : '',
      },
      reminder: {
        headline: `${r.id} ${r.autoExtend ? 'is extended' : 'ends'} in ${o.daysLeft ?? '?'} day${o.daysLeft === 1 ? '' : 's'}`,
        detail: r.autoExtend
          ? `On ${ends} the ${kind} between ${r.partnerName} and ${who(r)} is extended automatically by ${AUTO_EXTEND_DAYS} days.`
          : `On ${ends} the ${kind} between ${r.partnerName} and ${who(r)} ends.${audience === 'partner' ? ' Send a new request before then if they still need you.' : ''}`,
        style: 'warning',
        hint:
          audience === 'customer' ? (r.autoExtend ? 'Type revoke admin to stop it.' : 'Nothing to do if you are happy for it to end.') : '',
      },
    };
    return card(summary(r, { ...texts[event], audience }));
  }

  /** The partner channel's notice of an approval or designation: who, what, until when, and what to do next. */
  const channelNotice = (r: Relationship, response: ResponseRecord | undefined) =>
    card(
      cards.attachment('channel-notice', {
        tag: r.kind === 'delegation' ? 'DELEGATED ADMINISTRATION APPROVED' : 'PARTNER OF RECORD DESIGNATED',
        headline:
          r.kind === 'delegation'
            ? `${customerOf(r)} approved delegated administration ${r.id}`
            : `${customerOf(r)} made ${r.partnerName} its partner of record (${r.id})`,
        facts: [
          { title: 'Customer', value: r.approver ? `${literal(r.approver.name)} (${r.approverEmail})` : r.approverEmail },
          {
            title: r.kind === 'delegation' ? 'Approved by' : 'Designated by',
            value: response ? `${literal(response.by.name)}${response.by.upn ? ` (${response.by.upn})` : ''}` : who(r),
          },
          { title: 'When', value: response ? formatDateTime(response.at) : formatDate(r.activatedAt) },
          ...(r.kind === 'delegation'
            ? [
                { title: 'Access', value: accessWords(r) },
                { title: 'Ends', value: `${formatDate(r.endsAt)}${r.autoExtend ? ` (auto-extends by ${AUTO_EXTEND_DAYS} days)` : ''}` },
              ]
            : []),
          ...(r.replaced && r.replaced.partnerTenantId !== r.partnerTenantId ? [{ title: 'Replaces', value: r.replaced.partnerName }] : []),
          ...(r.offerId ? [{ title: 'On offer', value: r.offerId }] : []),
          { title: 'Requested by', value: literal(r.issuedBy.name) },
          { title: 'Id', value: r.id },
        ],
        // Named roles are listed one per line; full administration is already said under Access.
        lines: r.access?.kind === 'roles' ? r.access.roles.map((name) => ({ name, detail: 'Entra role' })) : [],
        next:
          r.kind === 'delegation'
            ? `Create the delegated admin relationship in Partner Center with ${accessWords(r)}, ending ${formatDate(r.endsAt)}, and send the customer the approval link there.`
            : `Record ${r.partnerName} as partner of record for ${customerOf(r)} in Partner Center.`,
      }),
    );

  return {
    notice,
    channelNotice,
    /** The customer's card for a request on its own. */
    requestCard: (r: Relationship, replaces: Relationship | null) =>
      card(cards.attachment('delegation-request', requestCardData(r, replaces))),
    requestCardJson: (r: Relationship, replaces: Relationship | null) => cards.render('delegation-request', requestCardData(r, replaces)),
    issued: (r: Relationship, installLink: string) =>
      r.state === 'awaitingDelivery'
        ? summary(r, {
            headline: `${r.id} is waiting for ${r.approverEmail} to install Partner Offers`,
            detail: `${r.approverEmail} has not installed the app yet. Send them the install link; the request reaches them as soon as they do, and I'll tell you.`,
            style: 'warning',
            hint: `Type status ${r.id} to follow it.`,
            installLink,
          })
        : summary(r, {
            headline: `Delegated-admin request ${r.id} sent to ${who(r)}`,
            detail: "I'll message you here when they answer.",
            style: 'good',
            hint: `Type status ${r.id} to follow it.`,
          }),
    duplicate: (r: Relationship) =>
      summary(r, {
        headline: `You already sent this: ${r.id}`,
        detail: `An identical request to ${r.approverEmail} is still waiting for an answer, so I did not send it again.`,
        style: 'warning',
      }),
    status: (r: Relationship, responses: ResponseRecord[]) => summary(r, { headline: `${r.id}: ${STATE_LABEL[r.state]}`, responses }),
    revokedByPartner: (r: Relationship) =>
      summary(r, { headline: `${r.id} revoked`, detail: `${who(r)} has been told that your ${KIND_NAME[r.kind]} ended.` }),
    list: (relationships: Relationship[]) =>
      cards.attachment('offer-list', {
        title: 'Delegated administration and partner of record',
        empty: 'None yet. Try: delegate admin@contoso.com',
        hint: 'Type status ‹id› for one of them and its recorded answers.',
        whoHeader: 'Customer',
        rows: relationships.map((r) => ({
          id: r.id,
          who: r.approverEmail,
          what: r.kind === 'delegation' ? `Delegated admin: ${accessWords(r)}` : 'Partner of record',
          state: STATE_LABEL[r.state],
          color: STATE_COLOR[r.state],
        })),
      }),
    /** `partners`: who the customer's delegated admin and partner of record are. */
    partners: (p: { delegation: Relationship | null; por: Relationship | null }) =>
      cards.attachment('partners', {
        sections: [
          p.delegation
            ? {
                title: 'Delegated administration',
                summary: `${p.delegation.partnerName} (${p.delegation.id}) administers your organisation with ${accessWords(p.delegation)}.`,
                facts: [
                  { title: 'Since', value: formatDate(p.delegation.activatedAt) },
                  {
                    title: 'Ends',
                    value: `${formatDate(p.delegation.endsAt)}${p.delegation.autoExtend ? ` (then extended by ${AUTO_EXTEND_DAYS} days)` : ''}`,
                  },
                  { title: 'Approved by', value: who(p.delegation) },
                ],
              }
            : {
                title: 'Delegated administration',
                summary: 'No partner has admin access to your organisation through this app.',
                facts: [],
              },
          p.por
            ? {
                title: 'Partner of record',
                summary: `${p.por.partnerName} (${p.por.id}) is your partner of record.`,
                facts: [
                  { title: 'Since', value: formatDate(p.por.activatedAt) },
                  { title: 'Designated by', value: who(p.por) },
                ],
              }
            : { title: 'Partner of record', summary: 'You have not designated a partner of record through this app.', facts: [] },
        ],
        hint: p.delegation ? 'Type revoke admin to end the delegated-admin relationship.' : '',
      }),
    revokeConfirmJson: (r: Relationship) =>
      cards.render('revoke-confirm', {
        relationshipId: r.id,
        headline: r.state === 'active' ? `End ${possessive(r.partnerName)} admin access?` : `${possessive(r.partnerName)} admin access`,
        detail:
          r.state === 'active'
            ? `${r.partnerName} loses its delegated administration (${accessWords(r)}) at once and is told. You can approve a new request later.`
            : '',
        facts: [
          { title: 'Relationship', value: r.id },
          { title: 'Since', value: formatDate(r.activatedAt) },
          ...(r.endsAt ? [{ title: 'Would end', value: formatDate(r.endsAt) }] : []),
        ],
        isOpen: r.state === 'active',
        confirmTitle: `Revoke ${possessive(r.partnerName)} access`,
        ...outcome(r),
      }),
    keptJson: (r: Relationship) =>
      cards.render('revoke-confirm', {
        relationshipId: r.id,
        headline: `${possessive(r.partnerName)} admin access`,
        detail: '',
        facts: [{ title: 'Relationship', value: r.id }],
        isOpen: false,
        confirmTitle: '',
        outcomeTitle: 'Nothing changed',
        outcomeDetail: `${r.partnerName} keeps its delegated administration. Type revoke admin if you change your mind.`,
        outcomeStyle: 'default',
      }),
  };
}

export type DelegationCards = ReturnType<typeof createDelegationMessages>;
