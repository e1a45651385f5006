import { MongoClient, ObjectId, WriteConcern, type ClientSession, type Db, type Document, type Filter, type IndexDescription, type TransactionOptions } from 'mongodb';
import { newId } from '../../ids';
import type { ConversationRecord, NotificationChannel } from '../../directory/types';
import type { Partner } from '../../directory/partners';
import { PENDING_STATES, type Offer } from '../../offers/types';
import type { ResponseRecord } from '../../responses/types';
import type { NewOutboxEntry, OutboxEntry } from '../../notifications/types';
import type { Relationship } from '../../delegation/types';
import type { Lead, Listing } from '../../marketplace/types';
import { chainResponse } from '../chain';
import { checkListingQuery, checkListingSave, leadKey, LISTING_WEIGHTS, searchTerms } from '../../marketplace/store';
import {
  expiryBounds,
  FULL_ACCESS_TEXT,
  mergePipeline,
  pipelineSummary,
  planPipeline,
  POR_TEXT,
  type SourceQuery,
} from '../../dashboard/store';
import { outboxRow } from '../../notifications/store';
import { ActiveRelationshipExists, activeRefuses, checkAttachments, checkReplaces, type RelationshipDecideResult } from '../../delegation/store';
import type { CustomerSummary, DecideResult, OfferQuery } from '../../offers/store';
import type { Store } from '../types';

/**
 * A stored document: the domain object (keys escaped, see `encode`) under `_id` = its domain id, plus adapter-only
 * fields whose names start with `_` (`_ord`, `_email`, `_upn`). Reads strip them and return the domain shape.
 */
interface Doc extends Document {
  _id: string;
}

interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
}

/** Top-level fields only the adapter writes; never part of a domain object. */
const ADAPTER_FIELDS = ['_id', '_ord', '_email', '_upn', '_score'] as const;

/**
 * How often a decision is re-run when another decision for the same customer moved the chain head first. Under
 * n-way contention a decider can lose n-1 times in a row, so this is generous; a jittered pause spreads retries.
 */
const MAX_DECIDE_ATTEMPTS = 20;

const TXN: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

/** The partial unique index on active relationships; a duplicate key on it means another approval won. */
const ACTIVE_INDEX = { name: 'customer_kind_active_unique', key: { customerTenantId: 1, kind: 1 } } as const;

/** How often a lead create is re-run after losing the race for its (requester, partner) slot document's insert. */
const MAX_LEAD_ATTEMPTS = 20;

/**
 * The listings' text index: `published` first (a $text query must give it by equality, and every search asks for
 * published listings), then the text fields with the same weights as SQLite's bm25(). No language: no stemming and no
 * stop words, as SQLite's unicode61 tokenizer (so both adapters match the same words); `language_override` names a
 * field no listing has, so a future `language` field could never change or break indexing. $text matches whole words
 * only: unlike SQLite's `"word"*`, no prefix matching ("secur" does not find "security").
 */
const LISTING_TEXT_INDEX: IndexDescription = {
  key: { published: 1, headline: 'text', serviceNames: 'text', services: 'text', expertise: 'text', description: 'text' },
  name: 'published_text',
  weights: {
    headline: LISTING_WEIGHTS.headline,
    serviceNames: LISTING_WEIGHTS.services,
    services: LISTING_WEIGHTS.services,
    expertise: LISTING_WEIGHTS.expertise,
    description: LISTING_WEIGHTS.description,
  },
  default_language: 'none',
  language_override: '_ftsLanguage',
};

/**
 * The pipeline page's order (newest first, then id descending) on offers and relationships: the page reads it from
 * the cursor on (hinted, like SQLite's INDEXED BY), so it stops after the page's rows however deep the page is. Kind,
 * state and customer follow in the key so those filters are checked on index keys before any document is fetched
 * (search words still need the documents).
 */
const PIPELINE_INDEX = {
  key: { partnerTenantId: 1, createdAt: -1, _id: -1, kind: 1, state: 1, approverEmail: 1 },
  name: 'partner_pipeline',
} as const;

/** The states `listDue` looks at: open requests (they expire) and active relationships (reminders, the end). */
const DUE_STATES = ['awaitingDelivery', 'approvalPending', 'active'] as const;

const INDEXES: Record<string, IndexDescription[]> = {
  offers: [
    // The duplicate guard: only pending offers carry a pendingKey, and no two may share one.
    { key: { pendingKey: 1 }, name: 'pendingKey_unique', unique: true, partialFilterExpression: { pendingKey: { $exists: true } } },
    { key: { partnerTenantId: 1, createdAt: 1 }, name: 'partner_created' },
    { key: { partnerTenantId: 1, approverEmail: 1, createdAt: 1 }, name: 'partner_approver_created' },
    { key: { approverEmail: 1, state: 1 }, name: 'approver_state' },
    { key: { 'approver.tenantId': 1, 'approver.aadObjectId': 1, state: 1 }, name: 'approver_user_state' },
    { key: { state: 1, expiresAt: 1 }, name: 'state_expires' },
    { ...PIPELINE_INDEX },
    // The pipeline summary's counts by state, and counts filtered by state and kind.
    { key: { partnerTenantId: 1, state: 1, kind: 1 }, name: 'partner_state_kind' },
  ],
  relationships: [
    // At most one active relationship per (customer, kind): the database's own guarantee, whatever interleaves.
    { ...ACTIVE_INDEX, unique: true, partialFilterExpression: { state: 'active' } },
    // The duplicate guard: only open unattached requests carry a pendingKey.
    { key: { pendingKey: 1 }, name: 'pendingKey_unique', unique: true, partialFilterExpression: { pendingKey: { $exists: true } } },
    // In `listByPartner`'s sort order (newest first, then id), so the sort is read off the index.
    { key: { partnerTenantId: 1, createdAt: -1, _id: 1 }, name: 'partner_created' },
    { key: { approverEmail: 1, createdAt: 1, _ord: 1 }, name: 'awaiting', partialFilterExpression: { state: 'awaitingDelivery' } },
    {
      key: { 'approver.tenantId': 1, 'approver.aadObjectId': 1, createdAt: 1, _ord: 1 },
      name: 'pending_for',
      partialFilterExpression: { state: 'approvalPending' },
    },
    // Not partial: `$in` in a partial filter needs a recent server, and an equality prefix per state merges in order.
    { key: { state: 1, dueAt: 1, _ord: 1 }, name: 'state_due' },
    { key: { offerId: 1 }, name: 'offer', partialFilterExpression: { offerId: { $exists: true } } },
    { ...PIPELINE_INDEX },
    { key: { partnerTenantId: 1, state: 1, kind: 1 }, name: 'partner_state_kind' },
    // The pipeline summary's expiring delegations: active delegations only, by end.
    { key: { partnerTenantId: 1, endsAt: 1 }, name: 'partner_expiring', partialFilterExpression: { kind: 'delegation', state: 'active' } },
  ],
  responses: [
    { key: { subjectId: 1, slot: 1 }, name: 'subject_slot_unique', unique: true },
    { key: { customerTenantId: 1, seq: 1 }, name: 'customer_seq_unique', unique: true },
  ],
  conversations: [
    { key: { kind: 1, tenantId: 1, 'user.aadObjectId': 1 }, name: 'personal_user' },
    { key: { kind: 1, _email: 1 }, name: 'personal_email' },
    { key: { kind: 1, _upn: 1 }, name: 'personal_upn' },
  ],
  outbox: [
    // `_ord` (insertion order) breaks ties between entries due at the same instant, so the claim sort is indexed.
    { key: { state: 1, nextAttemptAt: 1, _ord: 1 }, name: 'due' },
    { key: { 'subject.id': 1 }, name: 'subject' },
    // `failedFor`: one partner's failed entries, newest first (insertion order breaks ties), read off the index.
    { key: { partnerTenantId: 1, createdAt: -1, _ord: -1 }, name: 'partner_failed', partialFilterExpression: { state: 'failed' } },
    // Readiness's oldest pending entry: one index entry read, instead of every pending document fetched and sorted.
    { key: { createdAt: 1 }, name: 'pending_created', partialFilterExpression: { state: 'pending' } },
  ],
  listings: [
    // One listing per partner (the `_id` is the listing id).
    { key: { partnerTenantId: 1 }, name: 'partner_unique', unique: true },
    LISTING_TEXT_INDEX,
    // Searches without words, most recently updated first, with or without a filter (arrays: multikey, one per index).
    { key: { published: 1, updatedAt: -1, _id: 1 }, name: 'published_updated' },
    { key: { published: 1, countries: 1, updatedAt: -1, _id: 1 }, name: 'published_country_updated' },
    { key: { published: 1, languages: 1, updatedAt: -1, _id: 1 }, name: 'published_language_updated' },
  ],
  // The newest lead of a requester to a partner (`_ord`, insertion order, breaks ties), read off the index.
  leads: [{ key: { 'requester.tenantId': 1, 'requester.aadObjectId': 1, partnerTenantId: 1, createdAt: -1, _ord: -1 }, name: 'requester_partner_created' }],
  // One document per (requester, partner) that asked: the point where concurrent lead creates serialise (leads.create).
  leadSlots: [],
  partners: [],
  // Apart from `partners`, which the partners file replaces at every start: `_id` is the partner's tenant id.
  notificationChannels: [],
  chainHeads: [],
};

class ChainHeadMoved extends Error {
  constructor(customerTenantId: string) {
    super(`the response chain head of ${customerTenantId} moved during the transaction`);
  }
}

/** Thrown inside a lead create's transaction to abort it (nothing written, the slot included) and hand back this lead. */
class LeadExists extends Error {
  constructor(readonly lead: Lead) {
    super(`lead ${lead.id} was recorded for this requester and partner within the window`);
  }
}

/** A relationship read in this transaction at the expected version no longer matched it when written. */
class RelationshipMoved extends Error {
  constructor(id: string) {
    super(`relationship ${id} changed during the transaction`);
  }
}

/**
 * The production store: MongoDB through the official driver. Every write that must happen together runs in one
 * transaction (snapshot reads, majority commit), which is why the server must be a replica set or a sharded cluster.
 */
export async function openMongoStore(uri: string, dbName: string, now: () => Date = () => new Date()): Promise<Store> {
  const client = new MongoClient(uri, { appName: 'partner-offers-bot' });
  let db: Db;
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
      throw new Error(
        'MongoDB must run as a replica set (or a sharded cluster): a decision, its response record and its outbox entries ' +
          'commit in one transaction, and a standalone server has no transactions. MongoDB Atlas always is a replica set; ' +
          'for a local server start it with `mongod --replSet rs0` and run `rs.initiate()` once in mongosh.',
      );
    }
    db = client.db(dbName, { writeConcern: { w: 'majority' } });
    await prepare(db);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }

  const partners = db.collection<Doc>('partners');
  const notificationChannels = db.collection<Doc>('notificationChannels');
  const conversations = db.collection<Doc>('conversations');
  const offers = db.collection<Doc>('offers');
  const relationships = db.collection<Doc>('relationships');
  const responses = db.collection<Doc>('responses');
  const chainHeads = db.collection<HeadDoc>('chainHeads');
  const outbox = db.collection<Doc>('outbox');
  const listings = db.collection<Doc>('listings');
  const leads = db.collection<Doc>('leads');
  const leadSlots = db.collection<Doc>('leadSlots');

  async function inTransaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = client.startSession();
    try {
      return await session.withTransaction(fn, TXN);
    } finally {
      await session.endSession();
    }
  }

  /** `_ord` keeps insertion order (ObjectIds from one process increase), like SQLite's rowid; kept across updates. */
  const offerDoc = (o: Offer, ord: ObjectId = new ObjectId()): Doc => {
    const doc: Doc = { _id: str(o.id, 'offer id'), ...encode(o), _ord: ord };
    // The partial unique index covers every document that has the field, so a non-pending offer must not have it.
    if (typeof doc.pendingKey !== 'string') delete doc.pendingKey;
    return doc;
  };

  const insertOutbox = async (entries: NewOutboxEntry[], session: ClientSession) => {
    const at = now().toISOString();
    for (const e of entries) {
      const row = outboxRow(e, newId(), at);
      await outbox.insertOne({ _id: row.id, ...encode(row), _ord: new ObjectId() }, { session });
    }
  };

  const getOffer = async (id: string, session?: ClientSession) => toOffer(await offers.findOne({ _id: id }, { session }));

  const relDoc = (r: Relationship, ord: ObjectId = new ObjectId()): Doc => {
    const doc: Doc = { _id: str(r.id, 'relationship id'), ...encode(r), _ord: ord };
    // Partial indexes cover every document that has the field: only an open unattached request may carry a key.
    if (typeof doc.pendingKey !== 'string') delete doc.pendingKey;
    // The active index keys on the customer; an active document without one would be keyed on null (as SQLite's
    // CHECK constraint refuses it, this refuses it too).
    if (doc.state === 'active' && typeof doc.customerTenantId !== 'string') {
      throw new TypeError(`store: active relationship ${r.id} has no customerTenantId`);
    }
    return doc;
  };

  /** The listing as stored: typed values checked, since `published`, the arrays and the ids go into filters and indexes. */
  const listingDoc = (l: Listing): Doc => {
    const doc: Doc = { _id: str(l.id, 'listing id'), ...encode(l) };
    str(l.partnerTenantId, 'partnerTenantId');
    str(l.updatedAt, 'updatedAt');
    for (const f of ['services', 'serviceNames', 'expertise', 'countries', 'languages'] as const) strings(l[f], f);
    return doc;
  };

  const getRel = async (id: string, session?: ClientSession) =>
    fromDoc<Relationship>(await relationships.findOne({ _id: id }, { session }));

  /** The customer's active relationship of that kind; none for a relationship whose customer is not known yet. */
  const activeRel = async (customerTenantId: string | undefined, kind: string, session?: ClientSession) =>
    customerTenantId === undefined
      ? null
      : fromDoc<Relationship>(
          await relationships.findOne(
            { customerTenantId: str(customerTenantId, 'customerTenantId'), kind: str(kind, 'kind'), state: 'active' },
            { session },
          ),
        );

  /** Replaces the relationship if its version is still `expectedVersion` (the caller has read it in this transaction). */
  const replaceRel = async (next: Relationship, expectedVersion: number, current: Doc, session: ClientSession) => {
    const ord = current._ord instanceof ObjectId ? current._ord : undefined;
    const r = await relationships.replaceOne({ _id: next.id, version: expectedVersion }, relDoc(next, ord), { session });
    return r.matchedCount === 1;
  };

  /** A write that would make a second active relationship for the customer, reported as what it is. */
  const activeViolation = async (err: unknown, r: Relationship) =>
    isDuplicateKeyOn(err, ACTIVE_INDEX)
      ? new ActiveRelationshipExists(r, (await activeRel(r.customerTenantId, r.kind).catch(() => null))?.id)
      : err;

  /** Replaces the offer if its version is still `expectedVersion` (the caller has read it in this transaction). */
  const replaceOffer = async (next: Offer, expectedVersion: number, current: Doc, session: ClientSession) => {
    const ord = current._ord instanceof ObjectId ? current._ord : undefined;
    const r = await offers.replaceOne({ _id: next.id, version: expectedVersion }, offerDoc(next, ord), { session });
    return r.matchedCount === 1;
  };

  /**
   * One source's filter: equality and `$in` on checked strings (`planPipeline`), and per search word an `$or` of
   * case-insensitive regular expressions on the fields it may occur in, the word escaped so it matches literally.
   */
  const pipelineFilter = (partnerTenantId: string, s: SourceQuery<string>, fieldsFor: (word: string) => Document[]): Document => {
    const filter: Document = { partnerTenantId };
    if (s.kinds) filter.kind = { $in: s.kinds };
    if (s.states) filter.state = { $in: s.states };
    if (s.customer !== undefined) filter.approverEmail = s.customer;
    if (s.words.length) filter.$and = s.words.map((w) => ({ $or: fieldsFor(w) }));
    return filter;
  };

  /** One source's first `fetch` rows after the cursor, newest first, and how many rows the filter matches in all. */
  const pipelineSource = async (collection: typeof offers, partnerTenantId: string, s: SourceQuery<string>, fieldsFor: (word: string) => Document[]) => {
    if (s.skip) return { docs: [] as Doc[], total: 0 };
    const filter = pipelineFilter(partnerTenantId, s, fieldsFor);
    // Strictly after the cursor: createdAt <= its time (the index range), except rows at that time with an id >= its id.
    const page = s.after
      ? { ...filter, createdAt: { $lte: s.after.createdAt }, $nor: [{ createdAt: s.after.createdAt, _id: { $gte: s.after.id } }] }
      : filter;
    const [docs, total] = await Promise.all([
      collection.find(page).sort({ createdAt: -1, _id: -1 }).hint(PIPELINE_INDEX.name).limit(s.fetch).toArray(),
      collection.countDocuments(filter),
    ]);
    return { docs, total };
  };

  const offerFields = (word: string): Document[] => {
    const re = literalRegex(word);
    return [{ _id: re }, { approverEmail: re }, { 'approver.tenantId': re }, { 'issuedBy.name': re }, { 'lines.serviceName': re }];
  };

  /** As SQLite's search text: role names of a delegation with roles, the table's labels for full access and por. */
  const relationshipFields = (word: string): Document[] => {
    const re = literalRegex(word);
    return [
      { _id: re },
      { approverEmail: re },
      { customerTenantId: re },
      { 'issuedBy.name': re },
      { kind: 'delegation', 'access.kind': 'roles', 'access.roles': re },
      // A word of a fixed label either occurs in it or not: that is known before asking.
      ...(FULL_ACCESS_TEXT.includes(word) ? [{ kind: 'delegation', 'access.kind': 'full' }] : []),
      ...(POR_TEXT.includes(word) ? [{ kind: 'por' }] : []),
    ];
  };

  return {
    kind: 'mongo',
    ping: async () => void (await db.command({ ping: 1 })),
    close: async () => client.close(),

    partners: {
      upsert: async (p: Partner) => {
        const id = str(p.tenantId, 'partner tenant id');
        await partners.replaceOne({ _id: id }, { _id: id, ...encode(p) }, { upsert: true });
      },
      get: async (tenantId) => fromDoc<Partner>(await partners.findOne({ _id: str(tenantId, 'tenant id') })),
    },

    channels: {
      set: async (tenantId, channel) => {
        const id = str(tenantId, 'partner tenant id');
        if (channel === null) await notificationChannels.deleteOne({ _id: id });
        else await notificationChannels.replaceOne({ _id: id }, { _id: id, ...encode(channel) }, { upsert: true });
      },
      get: async (tenantId) => fromDoc<NotificationChannel>(await notificationChannels.findOne({ _id: str(tenantId, 'tenant id') })),
    },

    conversations: {
      upsert: async (c: ConversationRecord) => {
        const id = str(c.id, 'conversation id');
        const doc: Doc = { _id: id, ...encode(c) };
        // Lower-cased copies for lookup; the record itself keeps the case Teams gave us (as SQLite's doc column does).
        if (typeof c.user?.email === 'string') doc._email = c.user.email.toLowerCase();
        if (typeof c.user?.upn === 'string') doc._upn = c.user.upn.toLowerCase();
        await conversations.replaceOne({ _id: id }, doc, { upsert: true });
      },
      get: async (id) => fromDoc<ConversationRecord>(await conversations.findOne({ _id: str(id, 'conversation id') })),
      findPersonal: async (tenantId, aadObjectId) =>
        fromDoc<ConversationRecord>(
          await conversations.findOne(
            { kind: 'personal', tenantId: str(tenantId, 'tenant id'), 'user.aadObjectId': str(aadObjectId, 'aadObjectId'), active: true },
            { sort: { updatedAt: -1 } },
          ),
        ),
      findPersonalByEmail: async (email) => {
        const e = str(email, 'email').toLowerCase();
        return fromDoc<ConversationRecord>(
          await conversations.findOne({ kind: 'personal', active: true, $or: [{ _email: e }, { _upn: e }] }, { sort: { updatedAt: -1 } }),
        );
      },
      deactivate: async (id, reason, at) =>
        void (await conversations.updateOne(
          { _id: str(id, 'conversation id') },
          { $set: { active: false, inactiveReason: str(reason, 'reason'), updatedAt: str(at, 'time') } },
        )),
    },

    offers: {
      create: async (offer, entries, attachments = []) => {
        const pendingKey = offer.pendingKey === undefined ? undefined : str(offer.pendingKey, 'pendingKey');
        checkAttachments(offer.id, attachments);
        try {
          return await inTransaction(async (session) => {
            if (pendingKey) {
              const existing = toOffer(await offers.findOne({ pendingKey }, { session }));
              if (existing) return { created: false as const, offer: existing };
            }
            await offers.insertOne(offerDoc(offer), { session });
            for (const a of attachments) await relationships.insertOne(relDoc(a), { session });
            await insertOutbox(entries, session);
            return { created: true as const, offer };
          });
        } catch (err) {
          // Another process inserted the same pending offer between our check and insert.
          if (isDuplicateKey(err) && pendingKey) {
            const existing = toOffer(await offers.findOne({ pendingKey }));
            if (existing) return { created: false, offer: existing };
          }
          throw err;
        }
      },

      get: async (id) => getOffer(str(id, 'offer id')),

      update: async (next, expectedVersion, entries) => {
        const id = str(next.id, 'offer id');
        int(expectedVersion, 'expectedVersion');
        return inTransaction(async (session) => {
          const current = await offers.findOne({ _id: id }, { session });
          if (!current || current.version !== expectedVersion) return false;
          if (!(await replaceOffer(next, expectedVersion, current, session))) return false;
          await insertOutbox(entries, session);
          return true;
        });
      },

      decide: async (next, expectedVersion, response, entries) => {
        const offerId = str(next.id, 'offer id');
        int(expectedVersion, 'expectedVersion');
        const subjectId = str(response.subjectId, 'subjectId');
        const slot = str(response.slot, 'slot');
        const tenant = str(response.customerTenantId, 'customerTenantId');

        const alreadyRecorded = async (stored: Doc, session?: ClientSession): Promise<DecideResult> => ({
          status: 'already',
          // As in the SQLite adapter: the subject of an offer response is the offer.
          offer: (await getOffer(subjectId, session)) as Offer,
          response: fromDoc<ResponseRecord>(stored)!,
        });

        // Which write was running when the transaction failed (a property, so TypeScript does not narrow it away).
        const step: { at: 'read' | 'offer' | 'response' | 'head' | 'outbox' } = { at: 'read' };
        for (let attempt = 1; ; attempt++) {
          try {
            return await inTransaction(async (session): Promise<DecideResult> => {
              step.at = 'read';
              const existing = await responses.findOne({ subjectId, slot }, { session });
              if (existing) return alreadyRecorded(existing, session);

              const current = await offers.findOne({ _id: offerId }, { session });
              if (!current || current.version !== expectedVersion) return { status: 'conflict', offer: toOffer(current) };
              step.at = 'offer';
              if (!(await replaceOffer(next, expectedVersion, current, session))) {
                return { status: 'conflict', offer: await getOffer(offerId, session) };
              }

              step.at = 'read';
              const head = await chainHeads.findOne({ _id: tenant }, { session });
              const record = chainResponse(response, head ? { seq: head.seq, hash: head.hash } : null);
              step.at = 'response';
              await responses.insertOne({ _id: str(record.id, 'response id'), ...encode(record) }, { session });
              step.at = 'head';
              if (head) {
                const moved = await chainHeads.updateOne(
                  { _id: tenant, seq: head.seq },
                  { $set: { seq: record.seq, hash: record.hash } },
                  { session },
                );
                if (moved.matchedCount !== 1) throw new ChainHeadMoved(tenant);
              } else {
                await chainHeads.insertOne({ _id: tenant, seq: record.seq, hash: record.hash }, { session });
              }
              step.at = 'outbox';
              await insertOutbox(entries, session);
              return { status: 'recorded', offer: next, response: record };
            });
          } catch (err) {
            // The transaction is aborted by now: nothing of this attempt was written.
            const lostRace = err instanceof ChainHeadMoved || (isDuplicateKey(err) && (step.at === 'response' || step.at === 'head'));
            if (!lostRace) throw err;
            if (step.at === 'response') {
              // A concurrent decider recorded this (subject, slot) first; otherwise it took our chain position: retry.
              const stored = await responses.findOne({ subjectId, slot });
              if (stored) return alreadyRecorded(stored);
            }
            if (attempt >= MAX_DECIDE_ATTEMPTS) {
              throw new Error(`Could not record the decision on ${offerId}: the response chain of ${tenant} kept moving (${MAX_DECIDE_ATTEMPTS} attempts)`, {
                cause: err,
              });
            }
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          }
        }
      },

      listByPartner: async ({ partnerTenantId, approverEmail, limit }: OfferQuery) => {
        const filter: Filter<Doc> = { partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
        if (approverEmail) filter.approverEmail = str(approverEmail, 'approverEmail').toLowerCase();
        return limited(limit, (n) => offers.find(filter).sort({ createdAt: -1, _id: 1 }).limit(n).toArray()).then(toOffers);
      },

      customersOf: async (partnerTenantId) => {
        const rows = await offers
          .aggregate<{ _id: string; customerTenantId: string | null; offers: number; pending: number; accepted: number; lastActivityAt: string }>([
            { $match: { partnerTenantId: str(partnerTenantId, 'partnerTenantId') } },
            {
              $group: {
                _id: '$approverEmail',
                // $max skips missing and null values, like SQL max().
                customerTenantId: { $max: '$approver.tenantId' },
                offers: { $sum: 1 },
                pending: { $sum: { $cond: [{ $in: ['$state', [...PENDING_STATES]] }, 1, 0] } },
                accepted: { $sum: { $cond: [{ $eq: ['$state', 'accepted'] }, 1, 0] } },
                lastActivityAt: { $max: '$createdAt' },
              },
            },
            { $sort: { lastActivityAt: -1, _id: 1 } },
            { $limit: 200 },
          ])
          .toArray();
        return rows.map(
          (r): CustomerSummary => ({
            approverEmail: r._id,
            customerTenantId: r.customerTenantId ?? undefined,
            offers: r.offers,
            pending: r.pending,
            accepted: r.accepted,
            lastActivityAt: r.lastActivityAt,
          }),
        );
      },

      listAwaitingDelivery: async (email) =>
        toOffers(
          await offers
            .find({ approverEmail: str(email, 'email').toLowerCase(), state: 'awaitingDelivery' })
            .sort({ createdAt: 1, _ord: 1 })
            .toArray(),
        ),

      listPendingFor: async ({ tenantId, aadObjectId }) =>
        toOffers(
          await offers
            .find({ 'approver.tenantId': str(tenantId, 'tenant id'), 'approver.aadObjectId': str(aadObjectId, 'aadObjectId'), state: 'sent' })
            .sort({ createdAt: 1, _ord: 1 })
            .toArray(),
        ),

      listExpired: async (at, limit) => {
        const filter = { state: { $in: [...PENDING_STATES] }, expiresAt: { $lte: str(at, 'time') } };
        return limited(limit, (n) => offers.find(filter).sort({ expiresAt: 1, _ord: 1 }).limit(n).toArray()).then(toOffers);
      },

      setCard: async (offerId, card) =>
        void (await offers.updateOne({ _id: str(offerId, 'offer id') }, { $set: { card: encode(card) } })),
    },

    relationships: {
      create: async (r, entries) => {
        const pendingKey = r.pendingKey === undefined ? undefined : str(r.pendingKey, 'pendingKey');
        try {
          return await inTransaction(async (session) => {
            if (pendingKey) {
              const existing = fromDoc<Relationship>(await relationships.findOne({ pendingKey }, { session }));
              if (existing) return { created: false as const, relationship: existing };
            }
            await relationships.insertOne(relDoc(r), { session });
            await insertOutbox(entries, session);
            return { created: true as const, relationship: r };
          });
        } catch (err) {
          // Another process inserted the same open request between our check and insert.
          if (isDuplicateKey(err) && pendingKey) {
            const existing = fromDoc<Relationship>(await relationships.findOne({ pendingKey }));
            if (existing) return { created: false, relationship: existing };
          }
          throw await activeViolation(err, r);
        }
      },

      get: async (id) => getRel(str(id, 'relationship id')),

      update: async (next, expectedVersion, entries) => {
        const id = str(next.id, 'relationship id');
        int(expectedVersion, 'expectedVersion');
        try {
          return await inTransaction(async (session) => {
            const current = await relationships.findOne({ _id: id }, { session });
            if (!current || current.version !== expectedVersion) return false;
            if (!(await replaceRel(next, expectedVersion, current, session))) return false;
            await insertOutbox(entries, session);
            return true;
          });
        } catch (err) {
          throw await activeViolation(err, next);
        }
      },

      decide: async (d) => {
        const { next, replaces } = d;
        const id = str(next.id, 'relationship id');
        int(d.expectedVersion, 'expectedVersion');
        const kind = str(next.kind, 'kind');
        const customer = next.customerTenantId === undefined ? undefined : str(next.customerTenantId, 'customerTenantId');
        const first = d.responses[0];
        if (!first) throw new TypeError('store: a relationship decision records at least one response');
        const subjectId = str(first.subjectId, 'subjectId');
        const slot = str(first.slot, 'slot');
        for (const r of d.responses) str(r.customerTenantId, 'customerTenantId');
        checkReplaces(replaces);
        const ended = replaces?.ended;
        if (ended) int(ended.expectedVersion, 'expectedVersion');
        // In this order: the old relationship leaves `active` before the new one enters it.
        const writes = [...(ended ? [ended] : []), { next, expectedVersion: d.expectedVersion }];
        const refuses = (active: Relationship | null) => activeRefuses(d, active);

        const alreadyRecorded = async (stored: Doc, session?: ClientSession): Promise<RelationshipDecideResult> => ({
          status: 'already',
          relationship: (await getRel(id, session)) as Relationship,
          response: fromDoc<ResponseRecord>(stored)!,
        });

        const step: { at: 'read' | 'relationship' | 'response' | 'head' | 'outbox' } = { at: 'read' };
        for (let attempt = 1; ; attempt++) {
          try {
            return await inTransaction(async (session): Promise<RelationshipDecideResult> => {
              step.at = 'read';
              const existing = await responses.findOne({ subjectId, slot }, { session });
              if (existing) return alreadyRecorded(existing, session);

              if (replaces || next.state === 'active') {
                const active = await activeRel(customer, kind, session);
                if (refuses(active)) return { status: 'activeChanged', active };
              }
              // Every check before the first write: returning commits, and only `recorded` may have written anything.
              const currents: Doc[] = [];
              for (const w of writes) {
                const current = await relationships.findOne({ _id: str(w.next.id, 'relationship id') }, { session });
                if (!current || current.version !== w.expectedVersion) return { status: 'conflict', relationship: fromDoc<Relationship>(current) };
                currents.push(current);
              }
              step.at = 'relationship';
              for (const [i, w] of writes.entries()) {
                if (!(await replaceRel(w.next, w.expectedVersion, currents[i]!, session))) throw new RelationshipMoved(w.next.id);
              }

              const records: ResponseRecord[] = [];
              for (const response of d.responses) {
                const tenant = response.customerTenantId;
                step.at = 'read';
                const head = await chainHeads.findOne({ _id: tenant }, { session });
                const record = chainResponse(response, head ? { seq: head.seq, hash: head.hash } : null);
                step.at = 'response';
                await responses.insertOne({ _id: str(record.id, 'response id'), ...encode(record) }, { session });
                step.at = 'head';
                if (head) {
                  const moved = await chainHeads.updateOne(
                    { _id: tenant, seq: head.seq },
                    { $set: { seq: record.seq, hash: record.hash } },
                    { session },
                  );
                  if (moved.matchedCount !== 1) throw new ChainHeadMoved(tenant);
                } else {
                  await chainHeads.insertOne({ _id: tenant, seq: record.seq, hash: record.hash }, { session });
                }
                records.push(record);
              }
              step.at = 'outbox';
              await insertOutbox(d.outbox, session);
              return { status: 'recorded', relationship: next, responses: records };
            });
          } catch (err) {
            // The transaction is aborted by now: nothing of this attempt was written.
            if (step.at === 'relationship' && isDuplicateKeyOn(err, ACTIVE_INDEX)) {
              // Both snapshots saw no (or the same) active relationship and the other approval committed first: the
              // index refused ours. The same click retried is `already`; another relationship that won is
              // `activeChanged`; if the winner is already gone again, the next attempt reads the news.
              const stored = await responses.findOne({ subjectId, slot });
              if (stored) return alreadyRecorded(stored);
              const active = await activeRel(customer, kind);
              if (active && refuses(active)) return { status: 'activeChanged', active };
            } else if (!isRetryable(err, step.at)) {
              throw err;
            } else if (step.at === 'response') {
              // A concurrent decider recorded this (subject, slot) first; otherwise it took our chain position: retry.
              const stored = await responses.findOne({ subjectId, slot });
              if (stored) return alreadyRecorded(stored);
            }
            if (attempt >= MAX_DECIDE_ATTEMPTS) {
              throw new Error(`Could not record the decision on ${id}: it kept losing races (${MAX_DECIDE_ATTEMPTS} attempts)`, { cause: err });
            }
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          }
        }
      },

      activeFor: async (customerTenantId, kind) => activeRel(str(customerTenantId, 'customerTenantId'), kind),

      forOffer: async (offerId) =>
        toRels(await relationships.find({ offerId: str(offerId, 'offer id') }).sort({ _ord: 1 }).toArray()),

      listByPartner: async (partnerTenantId, limit) => {
        const filter = { partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
        return limited(limit, (n) => relationships.find(filter).sort({ createdAt: -1, _id: 1 }).limit(n).toArray()).then(toRels);
      },

      listAwaitingDelivery: async (email) =>
        toRels(
          await relationships
            .find({ approverEmail: str(email, 'email').toLowerCase(), state: 'awaitingDelivery', offerId: { $exists: false } })
            .sort({ createdAt: 1, _ord: 1 })
            .toArray(),
        ),

      listPendingFor: async ({ tenantId, aadObjectId }) =>
        toRels(
          await relationships
            .find({
              'approver.tenantId': str(tenantId, 'tenant id'),
              'approver.aadObjectId': str(aadObjectId, 'aadObjectId'),
              state: 'approvalPending',
              offerId: { $exists: false },
            })
            .sort({ createdAt: 1, _ord: 1 })
            .toArray(),
        ),

      listDue: async (at, limit) => {
        const filter = { state: { $in: [...DUE_STATES] }, dueAt: { $lte: str(at, 'time') } };
        return limited(limit, (n) => relationships.find(filter).sort({ dueAt: 1, _ord: 1 }).limit(n).toArray()).then(toRels);
      },

      setCard: async (id, card) =>
        void (await relationships.updateOne({ _id: str(id, 'relationship id') }, { $set: { card: encode(card) } })),
    },

    listings: {
      get: async (partnerTenantId) => fromDoc<Listing>(await listings.findOne({ partnerTenantId: str(partnerTenantId, 'partnerTenantId') })),
      getById: async (id) => fromDoc<Listing>(await listings.findOne({ _id: str(id, 'listing id') })),
      // One document each: the write and its text index entries are atomic, so no transaction is needed.
      save: async (listing, expectedVersion) => {
        checkListingSave(listing, expectedVersion);
        const doc = listingDoc(listing);
        if (expectedVersion === 0) {
          try {
            await listings.insertOne(doc);
            return true;
          } catch (err) {
            if (isDuplicateKey(err)) return false; // the id, or the partner's listing, exists already
            throw err;
          }
        }
        const r = await listings.replaceOne({ _id: doc._id, partnerTenantId: doc.partnerTenantId, version: expectedVersion }, doc);
        return r.matchedCount === 1;
      },
      search: async (query) => {
        checkListingQuery(query);
        if (query.limit === 0) return [];
        // Array equality on the stored arrays (multikey): the server filters, nothing is scanned here.
        const filter: Filter<Doc> = { published: true };
        if (query.country != null) filter.countries = str(query.country, 'country');
        if (query.language != null) filter.languages = str(query.language, 'language');
        const terms = searchTerms(strings(query.words, 'words'));
        if (!terms.length) {
          const docs = await listings.find(filter).sort({ updatedAt: -1, _id: 1 }).skip(query.offset).limit(query.limit).toArray();
          return docs.map((d) => ({ listing: fromDoc<Listing>(d)!, score: 0 }));
        }
        // Terms separated by spaces are OR-ed by $text, and the text score adds up every term's weighted hits; the
        // terms are letters and digits only, so no quote or `-` in the input can make a phrase or a negation.
        const docs = await listings
          .aggregate<Doc & { _score: number }>([
            { $match: { $text: { $search: terms.join(' ') }, ...filter } },
            { $addFields: { _score: { $meta: 'textScore' } } },
            { $sort: { _score: -1, updatedAt: -1, _id: 1 } },
            ...(query.offset ? [{ $skip: query.offset }] : []),
            { $limit: query.limit },
          ])
          .toArray();
        return docs.map((d) => ({ listing: fromDoc<Listing>(d)!, score: d._score }));
      },
    },

    leads: {
      /**
       * Snapshot isolation alone would let two concurrent creates both read "no lead" and both insert. So the first
       * thing each transaction does is write the (requester, partner) slot document: of two transactions that overlap,
       * the second to write it meets a write conflict (the first's write is uncommitted, or committed after the
       * second's snapshot), and the driver re-runs it with a new snapshot, which then reads the first's lead. A lead
       * that is found aborts the transaction (LeadExists), so a duplicate writes nothing, the slot included. Two
       * first-ever upserts of one slot can also end in a duplicate key on `_id`; that attempt is re-run here.
       */
      create: async (lead, entries, since) => {
        const id = str(lead.id, 'lead id');
        const key = leadKey(lead);
        const from = str(since, 'since');
        str(lead.createdAt, 'createdAt');
        const slot = JSON.stringify([key.tenantId, key.aadObjectId, key.partnerTenantId]);
        const filter = {
          'requester.tenantId': key.tenantId,
          'requester.aadObjectId': key.aadObjectId,
          partnerTenantId: key.partnerTenantId,
          createdAt: { $gte: from },
        };
        const step: { at: 'slot' | 'read' | 'lead' | 'outbox' } = { at: 'slot' };
        for (let attempt = 1; ; attempt++) {
          try {
            return await inTransaction(async (session) => {
              step.at = 'slot';
              await leadSlots.updateOne(
                { _id: slot },
                { $set: { leadId: id, createdAt: lead.createdAt }, $inc: { leads: 1 } },
                { upsert: true, session },
              );
              step.at = 'read';
              const existing = await leads.findOne(filter, { sort: { createdAt: -1, _ord: -1 }, session });
              if (existing) throw new LeadExists(fromDoc<Lead>(existing)!);
              step.at = 'lead';
              await leads.insertOne({ _id: id, ...encode(lead), _ord: new ObjectId() }, { session });
              step.at = 'outbox';
              await insertOutbox(entries, session);
              return { created: true as const, lead };
            });
          } catch (err) {
            // The transaction is aborted by now: nothing of this attempt was written.
            if (err instanceof LeadExists) return { created: false, lead: err.lead };
            if (!(isDuplicateKey(err) && step.at === 'slot') && !isRetryable(err, step.at)) throw err;
            if (attempt >= MAX_LEAD_ATTEMPTS) {
              throw new Error(`Could not record lead ${id}: it kept losing races (${MAX_LEAD_ATTEMPTS} attempts)`, { cause: err });
            }
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          }
        }
      },
      get: async (id) => fromDoc<Lead>(await leads.findOne({ _id: str(id, 'lead id') })),
      // First one wins: the missing field is the guard, in one atomic update.
      setTrial: async (id, offerId) =>
        (await leads.updateOne({ _id: str(id, 'lead id'), trialOfferId: { $exists: false } }, { $set: { trialOfferId: str(offerId, 'offer id') } }))
          .matchedCount === 1,
    },

    // Not one snapshot (SQLite's page is): the page and the counts are separate reads, so a write between them can
    // make the total differ from the rows by that write.
    pipeline: {
      page: async (query) => {
        const plan = planPipeline(query);
        const [o, r] = await Promise.all([
          pipelineSource(offers, plan.partnerTenantId, plan.offers, offerFields),
          pipelineSource(relationships, plan.partnerTenantId, plan.relationships, relationshipFields),
        ]);
        return { ...mergePipeline(toOffers(o.docs), toRels(r.docs), plan.limit), total: o.total + r.total };
      },
      summary: async (partnerTenantId, at) => {
        const partner = str(partnerTenantId, 'partnerTenantId');
        const bounds = expiryBounds(at);
        const byState = async (collection: typeof offers) =>
          (
            await collection
              .aggregate<{ _id: unknown; n: number }>([{ $match: { partnerTenantId: partner } }, { $group: { _id: '$state', n: { $sum: 1 } } }])
              .toArray()
          ).map((g) => ({ state: typeof g._id === 'string' ? g._id : '', n: g.n }));
        const soon = (until: string) => ({ $sum: { $cond: [{ $lte: ['$endsAt', until] }, 1, 0] } });
        const [o, r, expiring] = await Promise.all([
          byState(offers),
          byState(relationships),
          relationships
            .aggregate<{ within1: number; within7: number; within30: number }>([
              {
                $match: {
                  partnerTenantId: partner,
                  kind: 'delegation',
                  state: 'active',
                  endsAt: { $gt: bounds.now, $lte: bounds.within30 },
                },
              },
              { $group: { _id: null, within1: soon(bounds.within1), within7: soon(bounds.within7), within30: { $sum: 1 } } },
            ])
            .toArray(),
        ]);
        const e = expiring[0];
        return pipelineSummary(o, r, { within1: e?.within1 ?? 0, within7: e?.within7 ?? 0, within30: e?.within30 ?? 0 });
      },
    },

    responses: {
      forSubject: async (subjectId) =>
        (await responses.find({ subjectId: str(subjectId, 'subjectId') }).sort({ seq: 1 }).toArray()).map((d) => fromDoc<ResponseRecord>(d)!),
      chain: async (customerTenantId) =>
        (await responses.find({ customerTenantId: str(customerTenantId, 'customerTenantId') }).sort({ seq: 1 }).toArray()).map(
          (d) => fromDoc<ResponseRecord>(d)!,
        ),
    },

    outbox: {
      claim: async (owner, at, leaseUntil, limit) => {
        str(owner, 'owner');
        str(at, 'time');
        str(leaseUntil, 'leaseUntil');
        const max = int(limit, 'limit') < 0 ? Infinity : limit; // SQLite: LIMIT -1 means no limit
        const claimed: OutboxEntry[] = [];
        const ids: string[] = [];
        // One entry at a time: each findOneAndUpdate is atomic, so two processes never lease the same entry.
        while (claimed.length < max) {
          const doc = await outbox.findOneAndUpdate(
            {
              _id: { $nin: ids },
              state: 'pending',
              nextAttemptAt: { $lte: at },
              $or: [{ lease: { $exists: false } }, { 'lease.until': { $lte: at } }],
            },
            { $set: { lease: { owner, until: leaseUntil } } },
            { sort: { nextAttemptAt: 1, _ord: 1 }, returnDocument: 'after' },
          );
          if (!doc) break;
          ids.push(doc._id);
          claimed.push(toOutbox(doc));
        }
        return claimed;
      },
      markSent: async (id, owner) =>
        void (await outbox.updateOne(
          { _id: str(id, 'outbox id'), 'lease.owner': str(owner, 'owner') },
          { $set: { state: 'sent' }, $unset: { lease: '' }, $inc: { attempts: 1 } },
        )),
      retryLater: async (id, owner, at, error) =>
        void (await outbox.updateOne(
          { _id: str(id, 'outbox id'), 'lease.owner': str(owner, 'owner') },
          { $set: { nextAttemptAt: str(at, 'time'), lastError: str(error, 'error') }, $unset: { lease: '' }, $inc: { attempts: 1 } },
        )),
      markFailed: async (id, owner, error) =>
        void (await outbox.updateOne(
          { _id: str(id, 'outbox id'), 'lease.owner': str(owner, 'owner') },
          { $set: { state: 'failed', lastError: str(error, 'error') }, $unset: { lease: '' }, $inc: { attempts: 1 } },
        )),
      // The rate limiter's "not yet": the lease goes back, no attempt is counted, the last error stays.
      defer: async (id, owner, at) =>
        void (await outbox.updateOne(
          { _id: str(id, 'outbox id'), 'lease.owner': str(owner, 'owner') },
          { $set: { nextAttemptAt: str(at, 'time') }, $unset: { lease: '' } },
        )),
      failedFor: async (partnerTenantId, limit) => {
        const filter = { state: 'failed', partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
        return limited(limit, (n) => outbox.find(filter).sort({ createdAt: -1, _ord: -1 }).limit(n).toArray()).then((docs) => docs.map(toOutbox));
      },
      retryFailed: async (partnerTenantId, ids, at) => {
        const list = strings(ids, 'outbox ids');
        // The guard: only that partner's entries that are failed now (one a concurrent call requeued is pending).
        const filter = { _id: { $in: list }, state: 'failed', partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
        const update = { $set: { state: 'pending', nextAttemptAt: str(at, 'time'), attempts: 0 }, $unset: { lease: '' } };
        if (!list.length) return 0;
        // One transaction: all of them or (on error) none. A concurrent call on the same entries meets a write conflict
        // and the driver re-runs it, when it finds them pending: each entry is counted once in all.
        return inTransaction(async (session) => (await outbox.updateMany(filter, update, { session })).modifiedCount);
      },
      stats: async () => {
        const pending = await outbox.countDocuments({ state: 'pending' });
        const failed = await outbox.countDocuments({ state: 'failed' });
        const oldest = await outbox.findOne({ state: 'pending' }, { sort: { createdAt: 1 }, projection: { createdAt: 1 } });
        return { pending, failed, oldestPendingAt: typeof oldest?.createdAt === 'string' ? oldest.createdAt : undefined };
      },
      forSubject: async (subjectId) =>
        (await outbox.find({ 'subject.id': str(subjectId, 'subjectId') }).sort({ createdAt: 1, _ord: 1 }).toArray()).map(toOutbox),
    },
  };
}

/** Creates the collections (so transactions never have to) and their indexes; both are idempotent. */
async function prepare(db: Db): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [name, indexes] of Object.entries(INDEXES)) {
    if (!existing.has(name)) {
      try {
        await db.createCollection(name);
      } catch (err) {
        if ((err as { code?: unknown })?.code !== 48) throw err; // NamespaceExists: another process was quicker
      }
    }
    if (indexes.length) await db.collection(name).createIndexes(indexes);
  }
}

// ---- guards: values that go into filters must be what the types say, never an object carrying operators ----

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`store: ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`store: ${what} must be an array of strings`);
  return value.map((v) => str(v, what));
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`store: ${what} must be an integer`);
  return value;
}

/** SQL LIMIT semantics: 0 returns nothing, a negative limit means none (MongoDB reads 0 as "no limit"). */
async function limited<T>(limit: number, run: (n: number) => Promise<T[]>): Promise<T[]> {
  const n = int(limit, 'limit');
  if (n === 0) return [];
  return run(n < 0 ? 0 : n);
}

/**
 * A case-insensitive regular expression that matches `word` literally: every metacharacter escaped (PCRE reads a
 * backslash before any non-alphanumeric character as that character), NUL as `\x00` (a BSON regex cannot hold it).
 */
function literalRegex(word: string): { $regex: string; $options: string } {
  // eslint-disable-next-line no-control-regex
  return { $regex: word.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&').replace(/\u0000/g, '\\x00'), $options: 'i' };
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 11000;
}

/**
 * Lost a race the next attempt can win: the chain head or a relationship moved under us, another decider took our
 * chain position (duplicate key on the response or the head), or a write conflict the driver stopped retrying.
 */
function isRetryable(err: unknown, at: string): boolean {
  if (err instanceof ChainHeadMoved || err instanceof RelationshipMoved) return true;
  if (isDuplicateKey(err)) return at === 'response' || at === 'head';
  const e = err as { hasErrorLabel?: (label: string) => boolean };
  return typeof e?.hasErrorLabel === 'function' && e.hasErrorLabel('TransientTransactionError');
}

/** A duplicate key on that index: named in the server's message, and given as `keyPattern` by servers since 4.4. */
function isDuplicateKeyOn(err: unknown, index: { name: string; key: Record<string, number> }): boolean {
  if (!isDuplicateKey(err)) return false;
  const e = err as { message?: unknown; keyPattern?: unknown };
  if (typeof e.message === 'string' && e.message.includes(` index: ${index.name} `)) return true;
  return isPlainObject(e.keyPattern) && Object.keys(e.keyPattern).join() === Object.keys(index.key).join();
}

// ---- documents: the SQLite adapter stores JSON text, so this one stores exactly what JSON keeps ----

// NUL cannot appear in a BSON key, so it is escaped like `$` and `.`.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[%$.\u0000]/;
// eslint-disable-next-line no-control-regex
const ESCAPABLE = /[%$.\u0000]/g;
const ESCAPED = /%([0-9A-F]{2})/g;

/** `$` and `.` in keys (an Adaptive Card's `$schema`, say) are percent-encoded, so no `$` key ever reaches MongoDB. */
const escapeKey = (k: string): string =>
  NEEDS_ESCAPE.test(k) ? k.replace(ESCAPABLE, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`) : k;

const unescapeKey = (k: string): string => (k.includes('%') ? k.replace(ESCAPED, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))) : k);

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * The JSON round trip the SQLite adapter's `doc` column makes (undefined dropped, dates as strings), with keys
 * escaped. Typed as the input for convenience; the only difference is in keys no domain type declares.
 */
function encode<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) =>
    isPlainObject(v) && Object.keys(v).some((k) => NEEDS_ESCAPE.test(k))
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeKey(k), x]))
      : v,
  ) as T;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [unescapeKey(k), decode(v)]));
  return value;
}

/** The domain object in a stored document: adapter-only fields stripped, keys unescaped. */
function fromDoc<T>(doc: Doc | null): T | null {
  if (!doc) return null;
  const rest: Record<string, unknown> = { ...doc };
  for (const f of ADAPTER_FIELDS) delete rest[f];
  return decode(rest) as T;
}

const toRels = (docs: Doc[]): Relationship[] => docs.map((d) => fromDoc<Relationship>(d)!);

const toOffer = (doc: Doc | null): Offer | null => fromDoc<Offer>(doc);
const toOffers = (docs: Doc[]): Offer[] => docs.map((d) => fromDoc<Offer>(d)!);

/** The same shape as the SQLite adapter's `fromOutboxRow`: `lease` is always present, undefined when free. */
function toOutbox(doc: Doc): OutboxEntry {
  const entry = fromDoc<OutboxEntry>(doc)!;
  return { ...entry, lease: entry.lease ?? undefined };
}
