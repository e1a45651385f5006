import { randomUUID } from 'node:crypto';
import type { ConversationRecord } from '../../../src/directory/types';
import type { Partner } from '../../../src/directory/partners';
import type { NewOutboxEntry } from '../../../src/notifications/types';
import { isPending, pendingKey } from '../../../src/offers/rules';
import type { Decision, NewResponse, Offer, OfferLine, Person } from '../../../src/offers/types';

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
 * An offer id as the bot makes them (`T-4K7P2Q`): random-looking but unique within a run, because a counter is
 * mapped through a bijection of the 31^6 ids (multiplying by a prime that does not divide 31^6).
 */
export function shortId(prefix: 'T' | 'P'): string {
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
    ...(kind === 'purchase' ? { billing: 'monthly' as const } : {}),
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
    target: { kind: 'user', tenantId: o.issuedBy.tenantId, aadObjectId: o.issuedBy.aadObjectId, userId: o.issuedBy.userId, serviceUrl: o.issuedBy.serviceUrl },
    action: { kind: 'send', message: { kind: 'offer.notice', args: { offerId: o.id, event: text, $where: 'keys like this must never reach MongoDB raw' } } },
    subject: { kind: 'offer', id: o.id },
  };
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
