import type { Relationship } from '../delegation/types';
import { pendingLabel } from '../delegation/gdap/wording';
import { standingLabel } from '../delegation/wording';
import type { Offer } from '../offers/types';
import type { ResponseRecord } from '../responses/types';
import { STAGE_LABEL } from '../marketplace/messages';
import { chatLink } from '../marketplace/rules';
import type { Lead, LeadStage, Listing } from '../marketplace/types';
import type { MonthlyValue, PipelineItem, PipelineKind, PipelineState, PipelineSummary } from './types';
import { fulfilmentLabel } from '../orders/wording';
import type { Fulfilment } from '../orders/types';

/**
 * What the table filters by: offers and relationships name the same moments differently (an offer is `sent` while a
 * delegation request is `approvalPending`; an offer is `accepted`, a delegation `active`), so the page shows one word.
 * A row's own label says more where the delegation capability's wording does: an approved relationship's label says
 * whether Microsoft confirmed it.
 */
export const STATUSES = {
  awaitingDelivery: { label: 'Awaiting delivery', states: ['awaitingDelivery'] },
  waiting: { label: 'Waiting for answer', states: ['sent', 'approvalPending'] },
  // Still active until Microsoft confirms the end it was asked for.
  accepted: { label: 'Accepted', states: ['accepted', 'active', 'terminationRequested'] },
  declined: { label: 'Declined', states: ['declined'] },
  expired: { label: 'Expired', states: ['expired'] },
  withdrawn: { label: 'Withdrawn', states: ['withdrawn'] },
  ended: { label: 'Revoked or replaced', states: ['terminated'] },
} as const satisfies Record<string, { label: string; states: readonly PipelineState[] }>;
export type Status = keyof typeof STATUSES;
export const STATUS_NAMES = Object.keys(STATUSES) as Status[];

export const KIND_LABELS: Record<PipelineKind, string> = {
  trial: 'Trial',
  purchase: 'Purchase',
  delegation: 'Delegated admin',
  por: 'Partner of record',
};

const statusOf = (state: PipelineState): Status =>
  STATUS_NAMES.find((s) => (STATUSES[s].states as readonly string[]).includes(state)) ?? 'ended';

/** One table row as the page and the CSV show it. Dates are ISO strings; the page formats them in the user's locale. */
export interface Row {
  id: string;
  kind: PipelineKind;
  state: PipelineState;
  status: Status;
  statusLabel: string;
  customer: string;
  customerTenantId?: string;
  /** Services (offers), roles (delegations) or "Partner of record". */
  what: string;
  issuedBy: string;
  createdAt: string;
  decidedAt?: string;
  /** Until when an open offer or request can be answered. */
  expiresAt?: string;
  /** When an approved delegation's recorded consent ends (or is extended). */
  endsAt?: string;
  /** An accepted offer's order at Microsoft (partners connected to Partner Center): where it stands, with its ids. */
  order?: string;
  /** That order's list value per month, in cents of `currency` (0 for a trial). */
  orderValueCents?: number;
  currency?: string;
}

function offerRow(offer: Offer): Row {
  const open = offer.state === 'awaitingDelivery' || offer.state === 'sent';
  return {
    id: offer.id,
    kind: offer.kind,
    state: offer.state,
    status: statusOf(offer.state),
    statusLabel: STATUSES[statusOf(offer.state)].label,
    customer: offer.approverEmail,
    customerTenantId: offer.approver?.tenantId,
    what: offer.lines.map((l) => (l.quantity ? `${l.quantity} × ${l.serviceName}` : l.serviceName)).join(', '),
    issuedBy: offer.issuedBy.name,
    createdAt: offer.createdAt,
    // An expired offer was never decided: the day it expired is when it closed.
    decidedAt: offer.decidedAt ?? offer.withdrawnAt ?? (offer.state === 'expired' ? offer.expiresAt : undefined),
    expiresAt: open ? offer.expiresAt : undefined,
  };
}

function relationshipRow(rel: Relationship): Row {
  const open = rel.state === 'awaitingDelivery' || rel.state === 'approvalPending';
  const what =
    rel.kind === 'por' ? 'Partner of record' : rel.access?.kind === 'roles' ? rel.access.roles.join(', ') : 'Full administration';
  return {
    id: rel.id,
    kind: rel.kind,
    state: rel.state,
    status: statusOf(rel.state),
    statusLabel: standingLabel(rel) ?? pendingLabel(rel) ?? STATUSES[statusOf(rel.state)].label,
    customer: rel.customerOrg ? `${rel.approverEmail} (${rel.customerOrg.displayName})` : rel.approverEmail,
    customerTenantId: rel.customerTenantId,
    what:
      rel.kind === 'delegation' && rel.durationDays ? `${what} (${rel.durationDays} days${rel.autoExtend ? ', auto-extend' : ''})` : what,
    issuedBy: rel.issuedBy.name,
    createdAt: rel.createdAt,
    // An ended relationship's date is its end (an approved delegation that ran out also has its approval date).
    decidedAt: rel.endedAt ?? rel.decidedAt ?? (rel.state === 'expired' ? rel.requestExpiresAt : undefined),
    expiresAt: open ? rel.requestExpiresAt : undefined,
    endsAt: rel.state === 'active' ? rel.endsAt : undefined,
  };
}

/** `orders`: the fulfilment jobs of the offers among the items, by offer id. */
export const toRow = (item: PipelineItem, orders: ReadonlyMap<string, Fulfilment> = new Map()): Row => {
  if (item.type !== 'offer') return relationshipRow(item.relationship);
  const row = offerRow(item.offer);
  const order = orders.get(item.offer.id);
  return order ? { ...row, order: fulfilmentLabel(order), orderValueCents: order.valueCentsPerMonth, currency: order.currency } : row;
};

/** A response record as the row's history shows it: never the hash chain's internals, only what happened. */
export interface HistoryEntry {
  at: string;
  decision: string;
  by: string;
  comment?: string;
}

const DECISION_LABELS: Record<string, string> = {
  accepted: 'Accepted',
  declined: 'Declined',
  approved: 'Approved',
  revoked: 'Revoked',
  replaced: 'Replaced by another partner',
};

export const toHistory = (records: ResponseRecord[]): HistoryEntry[] =>
  records.map((r) => ({
    at: r.at,
    decision: DECISION_LABELS[r.decision] ?? r.decision,
    by: r.by.upn ? `${r.by.name} (${r.by.upn})` : r.by.name,
    comment: r.comment,
  }));

/** The summary strip: counts by status across kinds, the acceptance rate and what expires soon. */
export interface SummaryView {
  offers: { total: number } & Record<'awaitingDelivery' | 'waiting' | 'accepted' | 'declined' | 'expired' | 'withdrawn', number>;
  /** Accepted ÷ (accepted + declined + expired): of the offers customers let close, how many they took. null: none closed yet. */
  acceptanceRate: number | null;
  relationships: { active: number; waiting: number; expiring: PipelineSummary['expiring'] };
  /** Pipeline value: purchase offers' monthly-equivalent list value (cents) per recent month, oldest first. */
  value: ValueView;
}

export interface ValueView {
  /** The catalog's currency: offers are priced in it. */
  currency: string;
  /**
   * Every month asked for, in order; a month without offers is zeros. `placed`: the orders Partner Center placed that
   * month for accepted offers (partners connected to it), at the same monthly list value.
   */
  months: (MonthlyValue & { placed: number })[];
}

/** The store's months (only those with offers or orders) spread over every month the summary shows. */
export function toValue(found: MonthlyValue[], placed: { month: string; cents: number }[], months: string[], currency: string): ValueView {
  return {
    currency,
    months: months.map((month) => ({
      ...(found.find((m) => m.month === month) ?? { month, accepted: 0, pending: 0 }),
      placed: placed.find((p) => p.month === month)?.cents ?? 0,
    })),
  };
}

export function toSummary(s: PipelineSummary, value: ValueView): SummaryView {
  const o = s.offers;
  const closed = o.accepted + o.declined + o.expired;
  return {
    offers: {
      total: Object.values(o).reduce((a, b) => a + b, 0),
      awaitingDelivery: o.awaitingDelivery,
      waiting: o.sent,
      accepted: o.accepted,
      declined: o.declined,
      expired: o.expired,
      withdrawn: o.withdrawn,
    },
    acceptanceRate: closed ? o.accepted / closed : null,
    relationships: {
      active: s.relationships.active,
      waiting: s.relationships.approvalPending + s.relationships.awaitingDelivery,
      expiring: s.expiring,
    },
    value,
  };
}

/**
 * A lead as the Leads view shows it: who asked (as they are stored: name, address, and their organisation as the
 * lead card names it, by the address's domain), what about (their note, the listing they found, a trial sent from
 * it), when, where it stands (the latest mark, who made it and when), and the Teams deep link to chat with them.
 */
export interface LeadRow {
  id: string;
  name: string;
  email: string;
  organisation: string;
  note?: string;
  /** The headline of the listing they found the partner by. */
  found?: string;
  trialOfferId?: string;
  createdAt: string;
  /** `new` until someone marks it. */
  stage: { value: LeadStage['value'] | 'new'; label: string; by?: string; at?: string };
  chatLink: string;
}

export function toLeadRow(lead: Lead, listing: Listing | null): LeadRow {
  return {
    id: lead.id,
    name: lead.requester.name,
    email: lead.requester.email,
    organisation: lead.requester.email.split('@')[1] ?? '',
    ...(lead.note ? { note: lead.note } : {}),
    ...(listing && listing.id === lead.listingId && listing.headline ? { found: listing.headline } : {}),
    ...(lead.trialOfferId ? { trialOfferId: lead.trialOfferId } : {}),
    createdAt: lead.createdAt,
    stage: lead.stage
      ? { value: lead.stage.value, label: STAGE_LABEL[lead.stage.value], by: lead.stage.by.name, at: lead.stage.at }
      : { value: 'new', label: 'New' },
    chatLink: chatLink(lead.requester.email),
  };
}
