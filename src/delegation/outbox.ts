import { channelNotice } from '../notifications/channel';
import type { ChannelsStore } from '../notifications/store';
import { userTarget, type MessageRef, type NewOutboxEntry } from '../notifications/types';
import { offerCardUpdates } from '../offers/service';
import type { OffersStore } from '../offers/store';
import type { NewResponse } from '../responses/types';
import type { Relationship } from './types';

/** Outbox messages of this capability, rendered at delivery by the builders registered in ./index. */
export const RELATIONSHIP_CARD = 'relationship.card';
export const RELATIONSHIP_NOTICE = 'relationship.notice';
/** The partner's notification channel hears of approvals and designations. */
export const RELATIONSHIP_CHANNEL = 'relationship.channel';

/** What one side is told about a relationship; `daysLeft` only for reminders. */
export const NOTICE_EVENTS = [
  'delivered',
  'approved',
  'declined',
  'requestExpired',
  'replaced',
  'revokedByCustomer',
  'revokedByPartner',
  'ended',
  'extended',
  'reminder',
  /** Graph-backed: Microsoft reported it ended without the bot asking (admin center, Partner Center). */
  'endedAtMicrosoft',
  /** Graph-backed: the partner's Microsoft connection failed in a way only the partner can fix. */
  'microsoftProblem',
] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];
export type Audience = 'partner' | 'customer';

/** Who a response record names. */
export interface ResponseBy {
  aadObjectId: string;
  name: string;
  upn?: string;
  tenantId: string;
}

/** The outbox entries and response records the delegation service and the Graph watcher write with their changes. */
export function relationshipOutbox(store: { offers: OffersStore; channels: ChannelsStore }) {
  const subject = (r: Relationship) => ({ kind: r.kind, id: r.id });

  const notice = (r: Relationship, to: Audience, event: NoticeEvent, extra: Record<string, string> = {}): NewOutboxEntry[] => {
    const person = to === 'partner' ? r.issuedBy : r.approver;
    if (!person) return [];
    return [
      {
        target: userTarget(person),
        action: { kind: 'send', message: { kind: RELATIONSHIP_NOTICE, args: { relationshipId: r.id, event, audience: to, ...extra } } },
        subject: subject(r),
        partnerTenantId: r.partnerTenantId,
      },
    ];
  };

  const deliverCard = (r: Relationship, conversationId: string): NewOutboxEntry => ({
    target: { kind: 'conversation', conversationId },
    action: { kind: 'send', message: { kind: RELATIONSHIP_CARD, args: { relationshipId: r.id } } },
    onSent: { kind: 'relationshipCard', relationshipId: r.id },
    subject: subject(r),
    partnerTenantId: r.partnerTenantId,
  });

  /**
   * Updates the card the request is on, for everyone who sees it: its own card (or, before its place is known, the
   * message a click came from) and the copies `offers` posted, or the offer's card and its copies.
   */
  async function updateCard(r: Relationship, fallback?: { conversationId: string; activityId?: string }): Promise<NewOutboxEntry[]> {
    const offer = r.offerId ? await store.offers.get(r.offerId) : null;
    if (offer) return offerCardUpdates(offer, fallback).map((e) => ({ ...e, subject: subject(r) }));
    const card =
      r.card ?? (fallback?.activityId ? { conversationId: fallback.conversationId, activityId: fallback.activityId } : undefined);
    const places = [...(card ? [card] : []), ...(r.copies ?? []).filter((c) => c.activityId !== card?.activityId)];
    const message: MessageRef = { kind: RELATIONSHIP_CARD, args: { relationshipId: r.id } };
    return places.map((place) => ({
      target: { kind: 'conversation', conversationId: place.conversationId },
      action: { kind: 'update', activityId: place.activityId, message },
      subject: subject(r),
      partnerTenantId: r.partnerTenantId,
    }));
  }

  const channel = (r: Relationship) =>
    channelNotice(store, r.partnerTenantId, { kind: RELATIONSHIP_CHANNEL, args: { relationshipId: r.id } }, subject(r));

  const response = (
    r: Relationship,
    slot: NewResponse['slot'],
    decision: NewResponse['decision'],
    by: ResponseBy,
    at: Date | string,
    where: { conversationId: string; activityId: string },
    customerTenantId: string,
    extra: Pick<NewResponse, 'comment' | 'microsoft'> = {},
  ): NewResponse => ({
    id: `${r.id}/${slot}`,
    subjectKind: r.kind,
    subjectId: r.id,
    slot,
    decision,
    comment: extra.comment || undefined,
    by: { aadObjectId: by.aadObjectId, name: by.name, upn: by.upn, tenantId: by.tenantId },
    at: typeof at === 'string' ? at : at.toISOString(),
    conversationId: where.conversationId,
    activityId: where.activityId,
    customerTenantId,
    ...(extra.microsoft ? { microsoft: extra.microsoft } : {}),
  });

  return { subject, notice, deliverCard, updateCard, channel, response };
}

export type RelationshipOutbox = ReturnType<typeof relationshipOutbox>;
