import { relationshipSearchText } from '../../dashboard/store';
import {
  ActiveRelationshipExists,
  activeRefuses,
  checkReplaces,
  type RelationshipDecideResult,
  type RelationshipDecision,
  type RelationshipsStore,
} from '../../delegation/store';
import type { Relationship } from '../../delegation/types';
import type { NewOutboxEntry } from '../../notifications/types';
import { MAX_CARD_COPIES } from '../../offers/store';
import { isUniqueViolation, parse, parseAll, type Db, type Row } from './db';
import type { OutboxInsert } from './outbox';
import type { ResponseWriter } from './responses';

/** Inserts a relationship's row in the caller's transaction: `offers.create` inserts the requests attached to an offer. */
export interface RelationshipRows {
  insert(r: Relationship): void;
}

export function sqliteRelationshipRows(db: Db): RelationshipRows {
  const insert = db.prepare(`INSERT INTO relationships (id, kind, state, version, partner_tenant_id, approver_email, approver_tenant_id,
        approver_aad_object_id, customer_tenant_id, offer_id, created_at, due_at, pending_key, ends_at, search_text, doc)
      VALUES (@id, @kind, @state, @version, @partnerTenantId, @approverEmail, @approverTenantId, @approverAad, @customerTenantId,
        @offerId, @createdAt, @dueAt, @pendingKey, @endsAt, @searchText, @doc)`);
  return { insert: (r) => void insert.run(relParams(r)) };
}

/** What a relationship's create, update and decision write besides its own rows, in their transaction. */
export interface RelationshipWrites {
  rows: RelationshipRows;
  responses: ResponseWriter;
  outbox: OutboxInsert;
}

export function sqliteRelationships(db: Db, { rows, responses, outbox: insertOutbox }: RelationshipWrites): RelationshipsStore {
  const q = {
    // Every column follows the document, so no column can disagree with it whatever a caller changes.
    relUpdate: db.prepare(`UPDATE relationships SET kind = @kind, state = @state, version = @version, partner_tenant_id = @partnerTenantId,
        approver_email = @approverEmail, approver_tenant_id = @approverTenantId, approver_aad_object_id = @approverAad,
        customer_tenant_id = @customerTenantId, offer_id = @offerId, created_at = @createdAt, due_at = @dueAt, pending_key = @pendingKey,
        ends_at = @endsAt, search_text = @searchText, doc = @doc
      WHERE id = @id AND version = @expectedVersion`),
    relGet: db.prepare<[string], Row & { version: number }>('SELECT version, doc FROM relationships WHERE id = ?'),
    relByPendingKey: db.prepare<[string], Row>('SELECT doc FROM relationships WHERE pending_key = ? AND pending_key IS NOT NULL'),
    relActive: db.prepare<[string, string], Row>(
      `SELECT doc FROM relationships WHERE customer_tenant_id = ? AND kind = ? AND state = 'active'`,
    ),
    relForOffer: db.prepare<[string], Row>('SELECT doc FROM relationships WHERE offer_id = ? AND offer_id IS NOT NULL ORDER BY rowid'),
    relByPartner: db.prepare<[string, number], Row>(
      'SELECT doc FROM relationships WHERE partner_tenant_id = ? ORDER BY created_at DESC, id LIMIT ?',
    ),
    relAwaiting: db.prepare<[string], Row>(
      `SELECT doc FROM relationships WHERE approver_email = ? AND state = 'awaitingDelivery' AND offer_id IS NULL
       ORDER BY created_at, rowid`,
    ),
    relPendingFor: db.prepare<[string, string], Row>(
      `SELECT doc FROM relationships WHERE approver_tenant_id = ? AND approver_aad_object_id = ? AND state = 'approvalPending'
         AND offer_id IS NULL
       ORDER BY created_at, rowid`,
    ),
    relDue: db.prepare<[string, number], Row>(
      `SELECT doc FROM relationships WHERE state IN ('awaitingDelivery', 'approvalPending', 'active', 'terminationRequested', 'declined') AND due_at <= ?
       ORDER BY due_at, rowid LIMIT ?`,
    ),
    relSetCard: db.prepare<{ id: string; card: string }>(
      `UPDATE relationships SET doc = json_set(doc, '$.card', json(@card)) WHERE id = @id`,
    ),
    relCopiesGet: db.prepare<[string], { copies: string | null }>(
      `SELECT json_extract(doc, '$.copies') AS copies FROM relationships WHERE id = ?`,
    ),
    relCopiesSet: db.prepare<{ id: string; copies: string }>(
      `UPDATE relationships SET doc = json_set(doc, '$.copies', json(@copies)) WHERE id = @id`,
    ),
  };

  // Read and write under one BEGIN IMMEDIATE: copies posted at once from several processes are all kept.
  const addCopyTx = db.transaction((id: string, card: { conversationId: string; activityId: string }) => {
    const row = q.relCopiesGet.get(id);
    if (!row) return;
    const copies = [...((row.copies ? JSON.parse(row.copies) : []) as (typeof card)[]), card].slice(-MAX_CARD_COPIES);
    q.relCopiesSet.run({ id, copies: JSON.stringify(copies) });
  });

  const getRel = (id: string) => parse<Relationship>(q.relGet.get(id));

  /** The customer's active relationship of that kind; none for a relationship whose customer is not known yet. */
  const activeRel = (customerTenantId: string | undefined, kind: string) =>
    customerTenantId === undefined ? null : parse<Relationship>(q.relActive.get(customerTenantId, kind));

  /** Replaces the relationship if its stored version is still `expectedVersion`. */
  const casRel = (next: Relationship, expectedVersion: number) => q.relUpdate.run({ ...relParams(next), expectedVersion }).changes === 1;

  /** A write that would make a second active relationship for the customer, reported as what it is. */
  const activeViolation = (err: unknown, r: Relationship) =>
    isUniqueViolation(err, 'relationships.customer_tenant_id, relationships.kind')
      ? new ActiveRelationshipExists(r, activeRel(r.customerTenantId, r.kind)?.id)
      : err;

  const relCreateTx = db.transaction((r: Relationship, outbox: NewOutboxEntry[]) => {
    if (r.pendingKey) {
      const existing = parse<Relationship>(q.relByPendingKey.get(r.pendingKey));
      if (existing) return { created: false as const, relationship: existing };
    }
    rows.insert(r);
    insertOutbox(outbox);
    return { created: true as const, relationship: r };
  });

  const relUpdateTx = db.transaction((next: Relationship, expectedVersion: number, outbox: NewOutboxEntry[]) => {
    const changed = casRel(next, expectedVersion);
    if (changed) insertOutbox(outbox);
    return changed;
  });

  /**
   * Under BEGIN IMMEDIATE nothing changes between these reads and the writes, so every check comes before the first
   * write: returning from the transaction commits it, and an answer other than `recorded` must leave nothing written.
   */
  const relDecideTx = db.transaction((d: RelationshipDecision): RelationshipDecideResult => {
    const first = d.responses[0]!;
    const existing = responses.recorded(first.subjectId, first.slot);
    if (existing) return { status: 'already', relationship: getRel(d.next.id)!, response: existing };

    if (d.replaces || d.next.state === 'active') {
      const active = activeRel(d.next.customerTenantId, d.next.kind);
      if (activeRefuses(d, active)) return { status: 'activeChanged', active };
    }
    const ended = d.replaces?.ended;
    const writes = [...(ended ? [ended] : []), { next: d.next, expectedVersion: d.expectedVersion }];
    for (const w of writes) {
      const current = q.relGet.get(w.next.id);
      if (current?.version !== w.expectedVersion) return { status: 'conflict', relationship: parse<Relationship>(current) };
    }

    // In that order: the old relationship leaves `active` before the new one enters it (the unique index never sees two).
    for (const w of writes) casRel(w.next, w.expectedVersion);

    const records = d.responses.map((response) => responses.append(response));
    insertOutbox(d.outbox);
    return { status: 'recorded', relationship: d.next, responses: records };
  });

  return {
    create: async (r, outbox) => {
      try {
        return relCreateTx.immediate(r, outbox);
      } catch (err) {
        // Another process inserted the same open request between our check and insert.
        if (isUniqueViolation(err, 'relationships.pending_key') && r.pendingKey) {
          const existing = parse<Relationship>(q.relByPendingKey.get(r.pendingKey));
          if (existing) return { created: false, relationship: existing };
        }
        throw activeViolation(err, r);
      }
    },
    get: async (id) => getRel(id),
    update: async (next, expectedVersion, outbox) => {
      try {
        return relUpdateTx.immediate(next, expectedVersion, outbox);
      } catch (err) {
        throw activeViolation(err, next);
      }
    },
    decide: async (d) => {
      if (!d.responses.length) throw new TypeError('store: a relationship decision records at least one response');
      checkReplaces(d.replaces);
      return relDecideTx.immediate(d);
    },
    activeFor: async (customerTenantId, kind) => activeRel(customerTenantId, kind),
    forOffer: async (offerId) => parseAll<Relationship>(q.relForOffer.all(offerId)),
    listByPartner: async (partnerTenantId, limit) => parseAll<Relationship>(q.relByPartner.all(partnerTenantId, limit)),
    listAwaitingDelivery: async (email) => parseAll<Relationship>(q.relAwaiting.all(email.toLowerCase())),
    listPendingFor: async ({ tenantId, aadObjectId }) => parseAll<Relationship>(q.relPendingFor.all(tenantId, aadObjectId)),
    listDue: async (at, limit) => parseAll<Relationship>(q.relDue.all(at, limit)),
    setCard: async (id, card) => void q.relSetCard.run({ id, card: JSON.stringify(card) }),
    addCopy: async (id, card) => void addCopyTx.immediate(id, card),
  };
}

function relParams(r: Relationship) {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    version: r.version,
    partnerTenantId: r.partnerTenantId,
    approverEmail: r.approverEmail,
    approverTenantId: r.approver?.tenantId ?? null,
    approverAad: r.approver?.aadObjectId ?? null,
    customerTenantId: r.customerTenantId ?? null,
    offerId: r.offerId ?? null,
    createdAt: r.createdAt,
    dueAt: r.dueAt ?? null,
    pendingKey: r.pendingKey ?? null,
    endsAt: r.endsAt ?? null,
    searchText: relationshipSearchText(r),
    doc: JSON.stringify(r),
  };
}
