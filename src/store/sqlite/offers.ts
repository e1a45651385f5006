import { offerSearchText } from '../../dashboard/store';
import { checkAttachments } from '../../delegation/store';
import type { Relationship } from '../../delegation/types';
import type { NewOutboxEntry } from '../../notifications/types';
import { MAX_CARD_COPIES, type CustomerSummary, type DecideResult, type OfferQuery, type OffersStore } from '../../offers/store';
import type { Offer } from '../../offers/types';
import type { NewResponse } from '../../responses/types';
import { isUniqueViolation, parse, parseAll, type Db, type Row } from './db';
import type { OutboxInsert } from './outbox';
import type { RelationshipRows } from './relationships';
import type { ResponseWriter } from './responses';

/** What an offer's create, update and decision write besides its own row, in their transaction. */
export interface OfferWrites {
  relationships: RelationshipRows;
  responses: ResponseWriter;
  outbox: OutboxInsert;
}

export function sqliteOffers(db: Db, { relationships, responses, outbox: insertOutbox }: OfferWrites): OffersStore {
  const q = {
    offerInsert: db.prepare(`INSERT INTO offers (id, partner_tenant_id, approver_email, approver_tenant_id, approver_aad_object_id,
        state, version, created_at, expires_at, pending_key, kind, search_text, doc)
      VALUES (@id, @partnerTenantId, @approverEmail, @approverTenantId, @approverAad, @state, @version, @createdAt, @expiresAt, @pendingKey,
        @kind, @searchText, @doc)`),
    offerUpdate: db.prepare(`UPDATE offers SET approver_tenant_id = @approverTenantId, approver_aad_object_id = @approverAad,
        state = @state, version = @version, expires_at = @expiresAt, pending_key = @pendingKey, kind = @kind, search_text = @searchText,
        doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    offerGet: db.prepare<[string], Row>('SELECT doc FROM offers WHERE id = ?'),
    offerByPendingKey: db.prepare<[string], Row>('SELECT doc FROM offers WHERE pending_key = ? AND pending_key IS NOT NULL'),
    // A decision changes only these columns; naming no others keeps SQLite from rewriting indexes on unchanged ones
    // (search_text is only in offers_pipeline, whose entry the change of state rewrites anyway).
    offerDecide: db.prepare(`UPDATE offers SET state = @state, version = @version, pending_key = @pendingKey, search_text = @searchText,
        doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    offersByPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM offers WHERE partner_tenant_id = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    offersByPartnerApprover: db.prepare<[string, string, number], Row>(
      'SELECT doc FROM offers WHERE partner_tenant_id = ? AND approver_email = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    customers: db.prepare<
      [string],
      { approverEmail: string; customerTenantId: string | null; offers: number; pending: number; accepted: number; lastActivityAt: string }
    >(
      `SELECT approver_email AS approverEmail, max(approver_tenant_id) AS customerTenantId, count(*) AS offers,
         sum(state IN ('awaitingDelivery', 'sent')) AS pending, sum(state = 'accepted') AS accepted,
         max(created_at) AS lastActivityAt
       FROM offers WHERE partner_tenant_id = ? GROUP BY approver_email ORDER BY lastActivityAt DESC LIMIT 200`,
    ),
    awaiting: db.prepare<[string], Row>(
      `SELECT doc FROM offers WHERE approver_email = ? AND state = 'awaitingDelivery' ORDER BY created_at`,
    ),
    pendingFor: db.prepare<[string, string], Row>(
      `SELECT doc FROM offers WHERE approver_tenant_id = ? AND approver_aad_object_id = ? AND state = 'sent' ORDER BY created_at`,
    ),
    expired: db.prepare<[string, number], Row>(
      `SELECT doc FROM offers WHERE state IN ('awaitingDelivery', 'sent') AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
    setCard: db.prepare<{ id: string; card: string }>(`UPDATE offers SET doc = json_set(doc, '$.card', json(@card)) WHERE id = @id`),
    copiesGet: db.prepare<[string], { copies: string | null }>(`SELECT json_extract(doc, '$.copies') AS copies FROM offers WHERE id = ?`),
    copiesSet: db.prepare<{ id: string; copies: string }>(
      `UPDATE offers SET doc = json_set(doc, '$.copies', json(@copies)) WHERE id = @id`,
    ),
  };

  const addCopyTx = db.transaction((offerId: string, card: { conversationId: string; activityId: string }) => {
    const row = q.copiesGet.get(offerId);
    if (!row) return;
    const copies = [...((row.copies ? JSON.parse(row.copies) : []) as (typeof card)[]), card].slice(-MAX_CARD_COPIES);
    q.copiesSet.run({ id: offerId, copies: JSON.stringify(copies) });
  });

  const createTx = db.transaction((offer: Offer, outbox: NewOutboxEntry[], attachments: Relationship[]) => {
    if (offer.pendingKey) {
      const existing = parse<Offer>(q.offerByPendingKey.get(offer.pendingKey));
      if (existing) return { created: false as const, offer: existing };
    }
    q.offerInsert.run(offerParams(offer));
    for (const a of attachments) relationships.insert(a);
    insertOutbox(outbox);
    return { created: true as const, offer };
  });

  const updateTx = db.transaction((next: Offer, expectedVersion: number, outbox: NewOutboxEntry[]) => {
    const changed = q.offerUpdate.run({ ...offerParams(next), expectedVersion }).changes === 1;
    if (changed) insertOutbox(outbox);
    return changed;
  });

  const decideTx = db.transaction((next: Offer, expectedVersion: number, response: NewResponse, outbox: NewOutboxEntry[]): DecideResult => {
    const existing = responses.recorded(response.subjectId, response.slot);
    if (existing) return { status: 'already', offer: parse<Offer>(q.offerGet.get(response.subjectId))!, response: existing };
    const changed = q.offerDecide.run({
      id: next.id,
      state: next.state,
      version: next.version,
      pendingKey: next.pendingKey ?? null,
      searchText: offerSearchText(next),
      doc: JSON.stringify(next),
      expectedVersion,
    }).changes;
    if (changed !== 1) {
      return { status: 'conflict', offer: parse<Offer>(q.offerGet.get(next.id)) };
    }
    const record = responses.append(response);
    insertOutbox(outbox);
    return { status: 'recorded', offer: next, response: record };
  });

  return {
    create: async (offer, outbox, attachments = []) => {
      checkAttachments(offer.id, attachments);
      try {
        return createTx.immediate(offer, outbox, attachments);
      } catch (err) {
        // Another process inserted the same pending offer between our check and insert.
        if (isUniqueViolation(err, 'offers.pending_key') && offer.pendingKey) {
          const existing = parse<Offer>(q.offerByPendingKey.get(offer.pendingKey));
          if (existing) return { created: false, offer: existing };
        }
        throw err;
      }
    },
    get: async (id) => parse<Offer>(q.offerGet.get(id)),
    update: async (next, expectedVersion, outbox) => updateTx.immediate(next, expectedVersion, outbox),
    decide: async (next, expectedVersion, response, outbox) => decideTx.immediate(next, expectedVersion, response, outbox),
    listByPartner: async ({ partnerTenantId, approverEmail, limit }: OfferQuery) =>
      parseAll<Offer>(
        approverEmail
          ? q.offersByPartnerApprover.all(partnerTenantId, approverEmail.toLowerCase(), limit)
          : q.offersByPartner.all(partnerTenantId, limit),
      ),
    customersOf: async (partnerTenantId) =>
      q.customers.all(partnerTenantId).map((r): CustomerSummary => ({ ...r, customerTenantId: r.customerTenantId ?? undefined })),
    listAwaitingDelivery: async (email) => parseAll<Offer>(q.awaiting.all(email.toLowerCase())),
    listPendingFor: async ({ tenantId, aadObjectId }) => parseAll<Offer>(q.pendingFor.all(tenantId, aadObjectId)),
    listExpired: async (at, limit) => parseAll<Offer>(q.expired.all(at, limit)),
    setCard: async (offerId, card) => void q.setCard.run({ id: offerId, card: JSON.stringify(card) }),
    addCopy: async (offerId, card) => void addCopyTx.immediate(offerId, card),
  };
}

function offerParams(o: Offer) {
  return {
    id: o.id,
    partnerTenantId: o.partnerTenantId,
    approverEmail: o.approverEmail,
    approverTenantId: o.approver?.tenantId ?? null,
    approverAad: o.approver?.aadObjectId ?? null,
    state: o.state,
    version: o.version,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    pendingKey: o.pendingKey ?? null,
    kind: o.kind,
    searchText: offerSearchText(o),
    doc: JSON.stringify(o),
  };
}
