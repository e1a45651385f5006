import type { Activity, Attachment } from 'botbuilder';
import type { DelegationRequestCardData, Fact, Outcome, RequestPart, Role } from '../cards/data';
import type { CardRenderer } from '../cards/render';
import { formatDate, formatDateTime, literal } from '../cards/format';
import type { ResponseRecord } from '../responses/types';
import { findRole } from './roles';
import { AUTO_EXTEND_DAYS, DEFAULT_DURATION_DAYS, isOpen, KIND_NAME } from './rules';
import { approvalLink } from './graph/client';
import { hasApprovalLink } from './gdap/policy';
import { microsoftFacts } from './gdap/wording';
import type { Audience, NoticeEvent } from './outbox';
import type { Relationship } from './types';
import { accessWords, stateLabel, who, wordingFor, type NoticeText } from './wording';

const TAG = { delegation: 'DELEGATED ADMINISTRATION', por: 'PARTNER OF RECORD' } as const;
const STATE_COLOR: Record<Relationship['state'], string> = {
  awaitingDelivery: 'Warning',
  approvalPending: 'Default',
  active: 'Good',
  terminationRequested: 'Warning',
  declined: 'Attention',
  expired: 'Default',
  terminated: 'Default',
  withdrawn: 'Default',
};

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

/** The customer as a partner recognises it: its name at Microsoft where the bot asked Graph, else the approver's email domain. */
const customerOf = (r: Relationship): string => r.customerOrg?.displayName ?? r.approverEmail.split('@')[1] ?? r.approverEmail;
/** The customer's organisation as Microsoft names it, when known: "Contoso (contoso.onmicrosoft.com)". */
const organisation = (r: Relationship): Fact[] =>
  r.customerOrg
    ? [
        {
          title: 'Organisation',
          value: `${literal(r.customerOrg.displayName)}${r.customerOrg.defaultDomainName ? ` (${r.customerOrg.defaultDomainName})` : ''}`,
        },
      ]
    : [];
const duration = (r: Relationship) => `${r.durationDays ?? DEFAULT_DURATION_DAYS} days from approval`;

const card = (attachment: Attachment): Partial<Activity> => ({ type: 'message', attachments: [attachment] });

/** How a request that is not open any more ended up; what Microsoft knows is the wording's to say. */
function outcome(r: Relationship): Outcome {
  switch (r.state) {
    case 'active':
      return wordingFor(r).approved(r);
    case 'declined':
      return {
        outcomeTitle: `Declined on ${formatDate(r.decidedAt)}`,
        outcomeDetail: r.graph?.id
          ? `${r.partnerName} has been told. Nothing changed in your organisation: Microsoft's request stays unapproved and expires on its own.`
          : `${r.partnerName} has been told.`,
        outcomeStyle: 'attention',
      };
    case 'expired':
      return r.activatedAt
        ? wordingFor(r).ended(r)
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
      return wordingFor(r).ended(r);
    case 'terminationRequested':
      return {
        outcomeTitle: 'Ending: asked Microsoft, not confirmed yet',
        outcomeDetail: `This app asked Microsoft on ${formatDate(r.graph?.ending?.requestedAt)} to end the relationship. Until Microsoft reports it ended, ${r.partnerName} may still have its roles; this card changes when it does.`,
        outcomeStyle: 'warning',
      };
    default:
      return { outcomeTitle: '', outcomeDetail: '', outcomeStyle: 'default' };
  }
}

/**
 * The data of one request's section on a card: what is asked, in plain words, and its buttons while open. A request
 * created at Microsoft is approved there, so its approve button opens Microsoft's approval link (`adminCenter`).
 */
export function requestPart(r: Relationship, replaces: Relationship | null, adminCenter?: string): RequestPart {
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
  if (r.graph) facts.push({ title: 'Name at Microsoft', value: r.graph.displayName });
  const link = isOpen(r) && hasApprovalLink(r.graph) ? approvalLink(r.graph.id, adminCenter) : '';
  // Being created at Microsoft: nothing to approve yet (the follower updates the card when the link exists).
  const awaitingLink = isOpen(r) && !!r.graph && !link;
  return {
    relationshipId: r.id,
    partnerName: r.partnerName,
    title: delegation ? `Delegated administration · ${r.id}` : `Partner of record · ${r.id}`,
    summary: delegation
      ? `${r.partnerName} asks to administer your organisation's Microsoft 365 on your behalf with:`
      : `${r.partnerName} asks to be your partner of record: the partner credited for advising you on your Microsoft purchases. It does not change who your delegated admin is.`,
    roles: rolesOf(r),
    facts,
    replacesNote: replaces && isOpen(r) ? wordingFor(r).replacesNote(r, replaces) : '',
    notes: [
      ...(awaitingLink
        ? [`${r.partnerName} is creating this request at Microsoft; its approval link appears here as soon as Microsoft has it.`]
        : []),
      ...wordingFor(r).requestNotes(r),
      ...(delegation ? ['You can always contact Microsoft support directly, whoever your delegated admin is: type support.'] : []),
    ].map((text) => ({ text })),
    isOpen: isOpen(r),
    approveUrl: link,
    awaitingLink,
    approveTitle: link
      ? 'Review and approve in admin center'
      : replaces && replaces.partnerTenantId !== r.partnerTenantId
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
    ...organisation(r),
    { title: 'Status', value: stateLabel(r) },
  ];
  if (r.kind === 'delegation')
    f.push({ title: 'Duration', value: `${r.durationDays ?? DEFAULT_DURATION_DAYS} days${r.autoExtend ? ', auto-extend' : ''}` });
  if (r.offerId) f.push({ title: 'On offer', value: r.offerId });
  if (isOpen(r)) f.push({ title: 'Request expires', value: formatDate(r.requestExpiresAt) });
  return [...f, ...wordingFor(r).dates(r), ...microsoftFacts(r)];
}

/** `adminCenter`: where approval links point (Microsoft's admin center, or the local stand-in's). */
export function createDelegationMessages(cards: CardRenderer, adminCenter?: string) {
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
    ...requestPart(r, replaces, adminCenter),
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
    const texts: Record<NoticeEvent, NoticeText> = {
      delivered: {
        headline: `${r.id} reached ${who(r)}`,
        detail: `They installed the app, so your ${kind} request is now in their chat.`,
        style: 'default',
      },
      declined: {
        headline: `${who(r)} declined ${r.id}`,
        detail: o.comment ? `Their reason: "${literal(o.comment)}"` : 'They gave no reason.',
        style: 'attention',
      },
      requestExpired: {
        headline: `${r.id} expired without an answer`,
        detail: r.graph
          ? `Microsoft reports the request expired: no Global Administrator of ${who(r)}'s organisation approved it within 90 days.`
          : `${who(r)} did not answer your ${kind} request within 90 days.`,
        style: 'warning',
      },
      endedAtMicrosoft: {
        headline: `${r.id} ended at Microsoft`,
        detail: `Microsoft reports the relationship ended on ${formatDate(r.endedAt)}, outside this app (in the Microsoft 365 admin center or Partner Center).`,
        style: 'warning',
      },
      microsoftProblem: {
        headline: `${r.id}: I cannot reach Microsoft with your Entra app`,
        detail: `${r.graph?.problem?.message ?? 'Microsoft refused the request.'} Check the app's client id, its secret or certificate, the DelegatedAdminRelationship.ReadWrite.All permission (granted by an admin) and the Partner Customer Delegated Administration service principal. I keep trying every 15 minutes.`,
        style: 'attention',
        hint: `Type status ${r.id} to see where it stands.`,
      },
      ...wordingFor(r).notices(r, audience, o),
    };
    return card(summary(r, { ...texts[event], audience }));
  }

  /** The partner channel's notice of an approval or designation: who, what, and what to do next. */
  const channelNotice = (r: Relationship, response: ResponseRecord | undefined) => {
    const { tag, headline, facts: asked, next } = wordingFor(r).channel(r, customerOf(r));
    return card(
      cards.attachment('channel-notice', {
        tag,
        headline,
        facts: [
          { title: 'Customer', value: r.approver ? `${literal(r.approver.name)} (${r.approverEmail})` : r.approverEmail },
          ...organisation(r),
          {
            title: r.kind === 'delegation' ? 'Approved by' : 'Designated by',
            value: response ? `${literal(response.by.name)}${response.by.upn ? ` (${response.by.upn})` : ''}` : who(r),
          },
          { title: 'When', value: response ? formatDateTime(response.at) : formatDate(r.activatedAt) },
          ...asked,
          ...(r.replaced && r.replaced.partnerTenantId !== r.partnerTenantId ? [{ title: 'Replaces', value: r.replaced.partnerName }] : []),
          ...(r.offerId ? [{ title: 'On offer', value: r.offerId }] : []),
          { title: 'Requested by', value: literal(r.issuedBy.name) },
          { title: 'Id', value: r.id },
        ],
        // Named roles are listed one per line; full administration is already said under Asked for.
        lines: r.access?.kind === 'roles' ? r.access.roles.map((name) => ({ name, detail: 'Entra role' })) : [],
        next,
      }),
    );
  };

  return {
    notice,
    channelNotice,
    /** A request's section on an offer's card, with Microsoft's approval link where it has one. */
    part: (r: Relationship, replaces: Relationship | null) => requestPart(r, replaces, adminCenter),
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
        : r.graph && !r.graph.cardQueued
          ? summary(r, {
              headline: `${r.id} is being created at Microsoft`,
              detail: `Microsoft has not confirmed the request yet${r.graph.problem ? ` (${r.graph.problem.message})` : ''}. I keep trying, and the card with Microsoft's approval link goes to ${who(r)} as soon as Microsoft has it.`,
              style: 'warning',
              hint: `Type status ${r.id} to follow it.`,
            })
          : r.graph
            ? summary(r, {
                headline: `Delegated-admin request ${r.id} created at Microsoft and sent to ${who(r)}`,
                detail: `Microsoft has it as ${r.graph.id} (${r.graph.status}). Only a Global Administrator of their organisation can approve it, at Microsoft's approval link on their card; I'll tell you here and in your channel once Microsoft reports it active.`,
                style: 'good',
                hint: `Type status ${r.id} to follow it.`,
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
    status: (r: Relationship, responses: ResponseRecord[]) => summary(r, { headline: `${r.id}: ${stateLabel(r)}`, responses }),
    revokedByPartner: (r: Relationship) =>
      summary(r, { headline: r.graph ? `${r.id}: ${stateLabel(r)}` : `${r.id} revoked`, detail: wordingFor(r).revokedByPartner(r) }),
    list: (relationships: Relationship[]) =>
      cards.attachment('offer-list', {
        title: 'Delegated administration and partner of record',
        empty: 'None yet. Try: delegate admin@contoso.com',
        hint: 'Type status ‹id› for one of them and its recorded answers.',
        whoHeader: 'Customer',
        rows: relationships.map((r) => ({
          id: r.id,
          who: r.customerOrg ? `${r.approverEmail} (${literal(r.customerOrg.displayName)})` : r.approverEmail,
          what: r.kind === 'delegation' ? `Delegated admin: ${accessWords(r)}` : 'Partner of record',
          state: stateLabel(r),
          color: STATE_COLOR[r.state],
        })),
      }),
    /** `partners`: who the customer's delegated admin and partner of record are. */
    partners: (p: { delegation: Relationship | null; por: Relationship | null }) =>
      cards.attachment('partners', {
        sections: [wordingFor(p.delegation).partnersSection('delegation', p.delegation), wordingFor(p.por).partnersSection('por', p.por)],
        hint: p.delegation ? wordingFor(p.delegation).partnersHint : '',
      }),
    revokeConfirmJson: (r: Relationship) =>
      cards.render('revoke-confirm', {
        relationshipId: r.id,
        ...wordingFor(r).revokeConfirm(r),
        isOpen: r.state === 'active',
        ...outcome(r),
      }),
    keptJson: (r: Relationship) =>
      cards.render('revoke-confirm', {
        relationshipId: r.id,
        detail: '',
        facts: [{ title: 'Relationship', value: r.id }],
        isOpen: false,
        confirmTitle: '',
        ...wordingFor(r).kept(r),
      }),
  };
}

export type DelegationCards = ReturnType<typeof createDelegationMessages>;
