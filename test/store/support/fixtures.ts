import { randomUUID } from 'node:crypto';
import type { ConversationRecord, NotificationChannel } from '../../../src/directory/types';
import type { Partner } from '../../../src/directory/partners';
import { OPEN_REQUEST_STATES, type EndReason, type PartnerRef, type Relationship } from '../../../src/delegation/types';
import type { Lead, Listing } from '../../../src/marketplace/types';
import type { NewOutboxEntry } from '../../../src/notifications/types';
import { isPending, pendingKey } from '../../../src/offers/rules';
import type { Decision, Offer, OfferLine, Person } from '../../../src/offers/types';
import type { NewResponse, ResponseDecision } from '../../../src/responses/types';

/** The store tests' "now": the clock handed to `open()` starts here. */
export const T0 = '2026-11-25T09:00:00.000Z';

const MINUTE = 60_000;
/** `iso` moved by `minutes` (negative: earlier). */
export const plus = (iso: string, minutes: number): string => new Date(Date.parse(iso) + minutes * MINUTE).toISOString();
export const plusDays = (iso: string, days: number): string => plus(iso, days * 24 * 60);

export const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const ID_SPACE = ALPHABET.length ** 6;
let idCounter = 0;

/**
 * An id as the bot makes them (`T-4K7P2Q`; `D-` and `R-` for delegations and partner of record, `M-` for listings,
 * `C-` for leads): random-looking but
 * unique within a run, because a counter is mapped through a bijection of the 31^6 ids (multiplying by a prime that
 * does not divide 31^6).
 */
export function shortId(prefix: 'T' | 'P' | 'D' | 'R' | 'M' | 'C'): string {
  let n = (++idCounter * 104_729 + 7_654_321) % ID_SPACE;
  let s = '';
  for (let i = 0; i < 6; i++) {
    s = ALPHABET[n % ALPHABET.length]! + s;
    n = Math.floor(n / ALPHABET.length);
  }
  return `${prefix}-${s}`;
}

export const TENANT = {
  /** Fabrikam Cloud Partners, the issuing partner. */
  fabrikam: 'f1b7c3a2-5d4e-4f60-9a8b-1c2d3e4f5a6b',
  /** Northwind Traders, another partner. */
  northwind: '3c9e1d7a-8b2f-4a6c-b5d4-e3f2a1b0c9d8',
  /** Customers. */
  contoso: '7a1c5e2b-3f4d-4e5f-8a9b-0c1d2e3f4a5b',
  litware: 'b24d6f80-1a3c-4e5f-9786-5a4b3c2d1e0f',
} as const;

const SERVICE_URL = 'https://smba.trafficmanager.net/amer/';

/** A Teams user as the bot saw them. */
export function person(o: Partial<Person> & Pick<Person, 'name'>): Person {
  const first = o.name.split(' ')[0]!.toLowerCase();
  return {
    aadObjectId: randomUUID(),
    userId: `29:1${first}${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    tenantId: TENANT.contoso,
    email: `${first}@contoso.com`,
    serviceUrl: SERVICE_URL,
    ...o,
  };
}

export const alex = person({ name: 'Alex Wilber', tenantId: TENANT.fabrikam, email: 'alexw@fabrikam.com' });
export const megan = person({ name: 'Megan Bowen', tenantId: TENANT.contoso, email: 'admin@contoso.com' });
export const lee = person({ name: 'Lee Gu', tenantId: TENANT.contoso, email: 'lee.gu@contoso.com' });
export const diego = person({ name: 'Diego Siciliani', tenantId: TENANT.litware, email: 'diego@litware.com' });

export function partner(o: Partial<Partner> = {}): Partner {
  return {
    tenantId: TENANT.fabrikam,
    name: 'Fabrikam Cloud Partners',
    programs: ['cloud-essentials', 'cloud-accelerate'],
    authorizedServices: ['m365-business-premium', 'teams-essentials', 'intune-p1'],
    adminAgents: ['adminagents@fabrikam.com'],
    cloud: 'global',
    ...o,
  };
}

/** A partner's notification channel as `notify here` records it (the General channel of the sales team by default). */
export function notificationChannel(o: Partial<NotificationChannel> = {}): NotificationChannel {
  return {
    conversationId: `19:${randomUUID().replace(/-/g, '')}@thread.tacv2`,
    tenantId: TENANT.fabrikam,
    serviceUrl: SERVICE_URL,
    channelName: 'General',
    teamName: 'Fabrikam Sales',
    setBy: { aadObjectId: alex.aadObjectId, name: alex.name },
    setAt: T0,
    ...o,
  };
}

/** A personal chat with the bot, as the bot stores it from an inbound activity. */
export function conversation(who: Person, o: Partial<ConversationRecord> = {}): ConversationRecord {
  const id = o.id ?? `a:1${randomUUID().replace(/-/g, '')}`;
  return {
    id,
    tenantId: who.tenantId,
    kind: 'personal',
    user: { aadObjectId: who.aadObjectId, userId: who.userId, name: who.name, email: who.email, upn: who.email },
    reference: {
      activityId: `f:${randomUUID()}`,
      user: { id: who.userId, name: who.name, aadObjectId: who.aadObjectId },
      bot: { id: '28:0b4a9c7e-partner-offers', name: 'Partner Offers' },
      conversation: { id, conversationType: 'personal', tenantId: who.tenantId, isGroup: false, name: '' },
      channelId: 'msteams',
      locale: 'en-US',
      serviceUrl: who.serviceUrl,
    },
    active: true,
    updatedAt: T0,
    ...o,
  };
}

let quantity = 0;

/** A purchase line with a quantity of its own, so offers built one after the other never share a pendingKey. */
export const purchaseLine = (q = 5 + (quantity++ % 9_000)): OfferLine => ({
  serviceId: 'm365-business-premium',
  serviceName: 'Microsoft 365 Business Premium',
  quantity: q,
  unitPriceCents: 2_200,
});

export const TRIAL_LINES: OfferLine[] = [
  { serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 },
  { serviceId: 'teams-essentials', serviceName: 'Microsoft Teams Essentials', trialDays: 30 },
];

/**
 * An offer as the service issues it (version 1), from Fabrikam to admin@contoso.com, valid 30 days; a purchase of
 * a quantity no other built offer has unless `lines` say otherwise. `state: 'sent'` means it reached `approver`
 * (Megan by default). A pending offer carries its pendingKey unless `pendingKey` is given (even as undefined).
 */
export function offer(o: Partial<Offer> = {}): Offer {
  const kind = o.kind ?? 'purchase';
  const createdAt = o.createdAt ?? T0;
  const state = o.state ?? 'awaitingDelivery';
  const built: Offer = {
    id: shortId(kind === 'trial' ? 'T' : 'P'),
    kind,
    state,
    version: 1,
    partnerTenantId: TENANT.fabrikam,
    partnerName: 'Fabrikam Cloud Partners',
    issuedBy: alex,
    approverEmail: 'admin@contoso.com',
    lines: kind === 'trial' ? TRIAL_LINES : [purchaseLine()],
    ...(kind === 'purchase' ? { term: 'P1M' as const, billing: 'monthly' as const } : {}),
    currency: 'USD',
    createdAt,
    expiresAt: plusDays(createdAt, 30),
    ...(state === 'awaitingDelivery' ? {} : { approver: megan, deliveredAt: createdAt }),
    ...o,
  };
  if (isPending(built.state) && !('pendingKey' in o)) built.pendingKey = pendingKey(built);
  return built;
}

/** The offer once it reached the approver's personal chat (what `deliverAwaiting` writes). */
export const delivered = (o: Offer, approver: Person, at: string): Offer => ({
  ...o,
  state: 'sent',
  approver,
  deliveredAt: at,
  version: o.version + 1,
});

/** The approver's decision as the service records it (`<offer id>/offer`, one per subject and slot). */
export function newResponse(o: Offer, decision: Decision, extra: Partial<NewResponse> = {}): NewResponse {
  const by = o.approver ?? megan;
  return {
    id: `${o.id}/offer`,
    subjectKind: 'offer',
    subjectId: o.id,
    slot: 'offer',
    decision,
    ...(decision === 'declined' ? { comment: 'We renew with our current provider until March.' } : {}),
    by: { aadObjectId: by.aadObjectId, name: by.name, upn: by.email, tenantId: by.tenantId },
    at: plus(o.createdAt, 90),
    conversationId: o.card?.conversationId ?? `a:1personal-${by.aadObjectId.slice(0, 8)}`,
    activityId: o.card?.activityId ?? `1:${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    customerTenantId: by.tenantId,
    ...extra,
  };
}

/** The offer card for the approver's chat, by reference (rendered at delivery). */
export function deliverCard(o: Offer, conversationId: string): NewOutboxEntry {
  return {
    target: { kind: 'conversation', conversationId },
    action: { kind: 'send', message: { kind: 'offer.card', args: { offerId: o.id } } },
    onSent: { kind: 'offerCard', offerId: o.id },
    subject: { kind: 'offer', id: o.id },
  };
}

/** A 1:1 notice to the partner user who issued the offer. */
export function notifyIssuer(o: Offer, text: string): NewOutboxEntry {
  return {
    target: {
      kind: 'user',
      tenantId: o.issuedBy.tenantId,
      aadObjectId: o.issuedBy.aadObjectId,
      userId: o.issuedBy.userId,
      serviceUrl: o.issuedBy.serviceUrl,
    },
    action: {
      kind: 'send',
      message: { kind: 'offer.notice', args: { offerId: o.id, event: text, $where: 'keys like this must never reach MongoDB raw' } },
    },
    subject: { kind: 'offer', id: o.id },
  };
}

/** A notice to the issuer that names the partner whose business it is (what `failedFor` and `retryFailed` go by). */
export function partnerNotice(o: Offer, text: string, partnerTenantId: string = o.partnerTenantId): NewOutboxEntry {
  return { ...notifyIssuer(o, text), partnerTenantId };
}

/** The card updated in place after a decision. */
export function updateCard(o: Offer, card: { conversationId: string; activityId: string }): NewOutboxEntry {
  return {
    target: { kind: 'conversation', conversationId: card.conversationId },
    action: { kind: 'update', activityId: card.activityId, message: { kind: 'offer.card', args: { offerId: o.id, state: o.state } } },
    subject: { kind: 'offer', id: o.id },
  };
}

/**
 * An entry no adapter can store: a BigInt makes the JSON encoding both adapters use throw (`JSON.stringify`),
 * inside the transaction and after the statements before it ran, so the whole write must roll back.
 */
export function unstorableEntry(o: Offer): NewOutboxEntry {
  const e = notifyIssuer(o, 'this notice cannot be stored');
  return { ...e, target: { ...e.target, userId: BigInt(29) as unknown as string } as NewOutboxEntry['target'] };
}

// ---- delegated administration and partner of record ----

let requestNo = 0;

/**
 * A request as the delegation service issues it (version 1): from Fabrikam to admin@contoso.com, open 90 days; a
 * delegation asks for full access for 730 days. Every state but `awaitingDelivery` has reached `approver` (Megan by
 * default), so the customer is known; `active` is approved at `createdAt` (a delegation then ends after 730 days
 * and is due 30 days before). Open requests are due at their expiry. An open unattached request carries a
 * pendingKey no other built request has, unless `pendingKey` is given (even as undefined).
 */
export function relationship(o: Partial<Relationship> = {}): Relationship {
  const kind = o.kind ?? 'delegation';
  const createdAt = o.createdAt ?? T0;
  const state = o.state ?? 'awaitingDelivery';
  const approver = o.approver ?? megan;
  const open = OPEN_REQUEST_STATES.includes(state);
  const requestExpiresAt = plusDays(createdAt, 90);
  const endsAt = plusDays(createdAt, 730);
  const built: Relationship = {
    id: shortId(kind === 'delegation' ? 'D' : 'R'),
    kind,
    state,
    version: 1,
    partnerTenantId: TENANT.fabrikam,
    partnerName: 'Fabrikam Cloud Partners',
    issuedBy: alex,
    approverEmail: 'admin@contoso.com',
    ...(kind === 'delegation' ? { access: { kind: 'full' as const }, durationDays: 730, autoExtend: false } : {}),
    createdAt,
    requestExpiresAt,
    ...(state === 'awaitingDelivery' ? {} : { approver, customerTenantId: approver.tenantId, deliveredAt: createdAt }),
    ...(open ? { dueAt: requestExpiresAt } : {}),
    ...(state === 'active' ? { decidedAt: createdAt, activatedAt: createdAt } : {}),
    ...(state === 'active' && kind === 'delegation' ? { endsAt, dueAt: plusDays(endsAt, -30) } : {}),
    ...o,
  };
  if (open && built.offerId === undefined && !('pendingKey' in o)) {
    built.pendingKey = `${kind}|${built.partnerTenantId}|${built.approverEmail}|${++requestNo}`;
  }
  return built;
}

/** Another partner: its own tenant, its own name (partner `i` of a race). */
export const otherPartner = (i: number): Pick<Relationship, 'partnerTenantId' | 'partnerName'> => ({
  partnerTenantId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  partnerName: `Partner ${i}`,
});

export const partnerRef = (r: Relationship): PartnerRef => ({ id: r.id, partnerTenantId: r.partnerTenantId, partnerName: r.partnerName });

/** Without the fields only an open request has. */
const closed = (r: Relationship): Relationship => {
  const { pendingKey: _k, dueAt: _d, ...rest } = r;
  return rest;
};

/** The request once it reached the approver's personal chat. */
export const deliveredRel = (r: Relationship, approver: Person, at: string): Relationship => ({
  ...r,
  state: 'approvalPending',
  approver,
  customerTenantId: approver.tenantId,
  deliveredAt: at,
  version: r.version + 1,
});

/** The request approved at `at` (active; a delegation ends after its duration and is due 30 days before). */
export function approvedRel(r: Relationship, at: string, replaced?: PartnerRef): Relationship {
  const endsAt = r.kind === 'delegation' ? plusDays(at, r.durationDays ?? 730) : undefined;
  return {
    ...closed(r),
    state: 'active',
    version: r.version + 1,
    decidedAt: at,
    activatedAt: at,
    ...(endsAt ? { endsAt, dueAt: plusDays(endsAt, -30) } : {}),
    ...(replaced ? { replaced } : {}),
  };
}

export const declinedRel = (r: Relationship, at: string): Relationship => ({
  ...closed(r),
  state: 'declined',
  version: r.version + 1,
  decidedAt: at,
});

/** An active relationship ended at `at` (revoked, or replaced by `replacedBy`). */
export const endedRel = (r: Relationship, reason: EndReason, at: string, replacedBy?: PartnerRef): Relationship => ({
  ...closed(r),
  state: reason === 'expired' ? 'expired' : 'terminated',
  version: r.version + 1,
  endedAt: at,
  endReason: reason,
  ...(replacedBy ? { replacedBy } : {}),
});

/** The approver's answer to the request, as the service records it (`<id>/<kind>`, one per subject and slot). */
export function relResponse(r: Relationship, decision: ResponseDecision, extra: Partial<NewResponse> = {}): NewResponse {
  const by = r.approver ?? megan;
  return {
    id: `${r.id}/${r.kind}`,
    subjectKind: r.kind,
    subjectId: r.id,
    slot: r.kind,
    decision,
    ...(decision === 'declined' ? { comment: 'We manage our tenant ourselves.' } : {}),
    by: { aadObjectId: by.aadObjectId, name: by.name, upn: by.email, tenantId: by.tenantId },
    at: plus(r.createdAt, 90),
    conversationId: r.card?.conversationId ?? `a:1personal-${by.aadObjectId.slice(0, 8)}`,
    activityId: r.card?.activityId ?? `1:${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    customerTenantId: r.customerTenantId ?? by.tenantId,
    ...extra,
  };
}

/** The act that ended an active relationship (`<id>/termination`): revoked by `by`, or replaced by their approval. */
export function terminationResponse(
  r: Relationship,
  decision: 'revoked' | 'replaced',
  by: Person,
  extra: Partial<NewResponse> = {},
): NewResponse {
  return {
    ...relResponse(r, decision, extra),
    id: `${r.id}/termination`,
    slot: 'termination',
    by: { aadObjectId: by.aadObjectId, name: by.name, upn: by.email, tenantId: by.tenantId },
    ...extra,
  };
}

/** The request's own card for the approver's chat (unattached requests), by reference. */
export function relCard(r: Relationship, conversationId: string): NewOutboxEntry {
  return {
    target: { kind: 'conversation', conversationId },
    action: { kind: 'send', message: { kind: 'delegation.card', args: { relationshipId: r.id } } },
    onSent: { kind: 'relationshipCard', relationshipId: r.id },
    subject: { kind: r.kind, id: r.id },
  };
}

/** A 1:1 notice to the partner user who made the request. */
export function notifyRelIssuer(r: Relationship, text: string): NewOutboxEntry {
  return {
    target: {
      kind: 'user',
      tenantId: r.issuedBy.tenantId,
      aadObjectId: r.issuedBy.aadObjectId,
      userId: r.issuedBy.userId,
      serviceUrl: r.issuedBy.serviceUrl,
    },
    action: {
      kind: 'send',
      message: {
        kind: 'delegation.notice',
        args: { relationshipId: r.id, event: text, $where: 'keys like this must never reach MongoDB raw' },
      },
    },
    subject: { kind: r.kind, id: r.id },
  };
}

/** Like `unstorableEntry`, about a relationship. */
export function unstorableRelEntry(r: Relationship): NewOutboxEntry {
  const e = notifyRelIssuer(r, 'this notice cannot be stored');
  return { ...e, target: { ...e.target, userId: BigInt(29) as unknown as string } as NewOutboxEntry['target'] };
}

// ---- the marketplace: listings and leads ----

let listingNo = 0;

/** The tenant of listed partner `n` (listings need a partner each: one listing per partner). */
export const listedPartner = (n: number): string => `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;

/**
 * A published listing (version 1, as first saved) of a partner of its own: Microsoft 365 Business Premium, in the US,
 * in English, contact Alex.
 */
export function listing(o: Partial<Listing> = {}): Listing {
  const n = ++listingNo;
  return {
    id: shortId('M'),
    partnerTenantId: listedPartner(n),
    partnerName: `Listed Partner ${n}`,
    headline: 'Cloud services for small business',
    description: 'Licences, setup and support from one partner.',
    services: ['m365-business-premium'],
    serviceNames: ['Microsoft 365 Business Premium'],
    expertise: [],
    countries: ['US'],
    languages: ['en'],
    contact: { name: alex.name, email: alex.email! },
    canDelegate: true,
    published: true,
    version: 1,
    updatedAt: T0,
    updatedBy: { aadObjectId: alex.aadObjectId, name: alex.name },
    ...o,
  };
}

/** The listing as the next save writes it: version + 1, updated `minutes` after it was. */
export const edited = (l: Listing, change: Partial<Listing>, minutes = 1): Listing => ({
  ...l,
  ...change,
  version: l.version + 1,
  updatedAt: plus(l.updatedAt, minutes),
});

export type CorpusKey = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'U';

/**
 * The fixed corpus the ranking tests search: eight published listings of similar length and one unpublished (U, which
 * matches every query word, in its headline). Each query word is in at most three published listings, so every one
 * has a positive inverse document frequency in bm25 (a word in half the corpus or more counts for nothing).
 *
 * - `security`: A's headline, B's description only.                                  Expected: A, B.
 * - `exchange`: C's services (catalog name and id), D's expertise, E's description.   Expected: C, D, E.
 * - `teams voice`: F has both words (headline; `teams` in its services too), G only `teams` (headline). Expected: F, G.
 * - H matches none of them. Updated (minutes after T0): C 1, F 2, A 3, H 4, D 5, G 6, B 7, E 8, U 9.
 */
export function listingCorpus(): Record<CorpusKey, Listing> {
  const at = (minutes: number) => plus(T0, minutes);
  const premium = { services: ['m365-business-premium'], serviceNames: ['Microsoft 365 Business Premium'] };
  const intune = { services: ['intune-p1'], serviceNames: ['Microsoft Intune Plan 1'] };
  return {
    A: listing({
      headline: 'Security assessments for growing firms',
      ...premium,
      expertise: ['compliance reviews'],
      description: 'We review identity, devices and data protection for small offices.',
      countries: ['DE', 'AT'],
      languages: ['de', 'en'],
      updatedAt: at(3),
    }),
    B: listing({
      headline: 'Managed IT for small offices',
      ...intune,
      expertise: ['device management'],
      description: 'Helpdesk and device rollout with a security baseline included.',
      countries: ['US'],
      languages: ['en'],
      updatedAt: at(7),
    }),
    C: listing({
      headline: 'Mail moves without downtime',
      services: ['exchange-online-plan1'],
      serviceNames: ['Exchange Online Plan 1'],
      expertise: ['hybrid identity'],
      description: 'Cutover and staged moves from on-premises servers to the cloud.',
      countries: ['DE'],
      languages: ['de'],
      updatedAt: at(1),
    }),
    D: listing({
      headline: 'Collaboration consultants for hybrid work',
      ...premium,
      expertise: ['exchange migrations', 'sharepoint'],
      description: 'Workshops and adoption plans for hybrid workplaces.',
      countries: ['CH', 'DE'],
      languages: ['de', 'fr'],
      updatedAt: at(5),
    }),
    E: listing({
      headline: 'Licensing advice and support',
      services: ['m365-business-basic'],
      serviceNames: ['Microsoft 365 Business Basic'],
      expertise: ['licensing'],
      description: 'We also help with exchange mailbox cleanups and archiving rules.',
      countries: ['FR', 'BE'],
      languages: ['fr'],
      updatedAt: at(8),
    }),
    F: listing({
      headline: 'Teams voice rollouts',
      services: ['teams-phone'],
      serviceNames: ['Microsoft Teams Phone'],
      expertise: ['calling plans', 'direct routing'],
      description: 'Number porting, auto attendants and call queues for every site.',
      countries: ['US', 'CA'],
      languages: ['en'],
      updatedAt: at(2),
    }),
    G: listing({
      headline: 'Teams adoption coaching',
      ...premium,
      expertise: ['change management'],
      description: 'Champions programmes and training for staff across offices.',
      countries: ['GB'],
      languages: ['en'],
      updatedAt: at(6),
    }),
    H: listing({
      headline: 'Endpoint management specialists',
      ...intune,
      expertise: ['autopilot'],
      description: 'Zero-touch device provisioning across every site and region.',
      countries: ['US', 'CA'],
      languages: ['en', 'fr'],
      updatedAt: at(4),
    }),
    U: listing({
      headline: 'Security and exchange experts for teams voice',
      services: ['exchange-online-plan1', 'teams-phone'],
      serviceNames: ['Exchange Online Plan 1', 'Microsoft Teams Phone'],
      expertise: ['security', 'exchange'],
      description: 'Security, exchange, teams and voice: everything.',
      countries: ['DE'],
      languages: ['de'],
      published: false,
      updatedAt: at(9),
    }),
  };
}

/** Someone who asks to be contacted: a user of Contoso of their own (a new aadObjectId) unless told otherwise. */
export const requester = (o: Partial<Person> = {}): Person & { email: string } => {
  const who = person({ name: megan.name, tenantId: megan.tenantId, email: megan.email, ...o });
  return { ...who, email: who.email! };
};

/** A request to be contacted by the listing's partner, made at `createdAt` (T0 by default). */
export function lead(l: Listing, who: Person & { email: string }, o: Partial<Lead> = {}): Lead {
  return {
    id: shortId('C'),
    listingId: l.id,
    partnerTenantId: l.partnerTenantId,
    partnerName: l.partnerName,
    requester: who,
    note: 'Please call us about Teams Phone for 40 people.',
    createdAt: T0,
    ...o,
  };
}

/** The lead card for the partner's contact (by reference), naming the partner whose business it is. */
export function leadCard(ld: Lead, text: string): NewOutboxEntry {
  return {
    target: { kind: 'user', tenantId: ld.partnerTenantId, aadObjectId: alex.aadObjectId, userId: alex.userId, serviceUrl: alex.serviceUrl },
    action: {
      kind: 'send',
      message: { kind: 'lead.card', args: { leadId: ld.id, event: text, $where: 'keys like this must never reach MongoDB raw' } },
    },
    partnerTenantId: ld.partnerTenantId,
  };
}

/** The confirmation to the requester. */
export function leadConfirmation(ld: Lead): NewOutboxEntry {
  const r = ld.requester;
  return {
    target: { kind: 'user', tenantId: r.tenantId, aadObjectId: r.aadObjectId, userId: r.userId, serviceUrl: r.serviceUrl },
    action: { kind: 'send', message: { kind: 'lead.confirmation', args: { leadId: ld.id } } },
  };
}

/** Like `unstorableEntry`, about a lead. */
export function unstorableLeadEntry(ld: Lead): NewOutboxEntry {
  const e = leadCard(ld, 'this card cannot be stored');
  return { ...e, target: { ...e.target, userId: BigInt(29) as unknown as string } as NewOutboxEntry['target'] };
}
