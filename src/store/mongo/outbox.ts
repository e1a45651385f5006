import { ObjectId, type ClientSession, type Document } from 'mongodb';
import { newId } from '../../ids';
import { outboxRow, type OutboxStore } from '../../notifications/store';
import { withFirstItem, type NewOutboxEntry, type OutboxEntry } from '../../notifications/types';
import { encode, fromDoc, int, limited, str, strings, type CollectionSpec, type Doc, type Mongo } from './db';

export const OUTBOX_COLLECTIONS: CollectionSpec[] = [
  {
    name: 'outbox',
    indexes: [
      // `_ord` (insertion order) breaks ties between entries due at the same instant, so the claim sort is indexed.
      { key: { state: 1, nextAttemptAt: 1, _ord: 1 }, name: 'due' },
      { key: { 'subject.id': 1 }, name: 'subject' },
      // `failedFor`: one partner's failed entries, newest first (insertion order breaks ties), read off the index.
      { key: { partnerTenantId: 1, createdAt: -1, _ord: -1 }, name: 'partner_failed', partialFilterExpression: { state: 'failed' } },
      // Readiness's oldest pending entry: one index entry read, instead of every pending document fetched and sorted.
      { key: { createdAt: 1 }, name: 'pending_created', partialFilterExpression: { state: 'pending' } },
      // Coalescing notices find the newest waiting entry of their key (pending ones only).
      { key: { 'coalesce.key': 1, _ord: -1 }, name: 'coalesce', partialFilterExpression: { state: 'pending' } },
      // issue 18: retention (`pruneSent`) reads the oldest sent entries off this index, as SQLite's outbox_sent. Not a
      // TTL index: the retention period is configuration (OUTBOX_RETENTION_DAYS) read by the sweep, while a TTL index
      // fixes it in the index definition; the sweep's bounded deletes do the same job in both stores, on the same rule.
      { key: { _sentAt: 1 }, name: 'sent', partialFilterExpression: { state: 'sent' } },
    ],
    // Entries marked sent before `_sentAt` existed would never be pruned: their creation time stands in (they were sent
    // at or after it). Cheap when none need it: they are the `sent` index's null keys.
    backfill: async (db) =>
      void (await db
        .collection<Doc>('outbox')
        .updateMany({ state: 'sent', _sentAt: null }, [{ $set: { _sentAt: { $dateFromString: { dateString: '$createdAt' } } } }])),
  },
];

/**
 * Inserts outbox entries in the caller's transaction: the capabilities whose writes carry entries (offers,
 * relationships, leads) call it inside theirs, so the entries commit with the change they tell of or not at all.
 */
export type OutboxInsert = (session: ClientSession, entries: NewOutboxEntry[]) => Promise<void>;

export function mongoOutboxInsert({ db, now }: Mongo): OutboxInsert {
  const outbox = db.collection<Doc>('outbox');
  /**
   * Appends the entry's message to the newest pending entry of its coalesce key if that one is not leased, never
   * tried and not full. The append is one conditional update: a deliverer's claim that leases the entry first makes it not match
   * (or, inside the caller's transaction, makes it a write conflict the driver re-runs), so an item is never added to
   * an entry already in a deliverer's hands.
   */
  const join = async (session: ClientSession, e: NewOutboxEntry): Promise<boolean> => {
    if (!e.coalesce) return false;
    const newest = await outbox.findOne(
      { 'coalesce.key': str(e.coalesce.key, 'coalesce key'), state: 'pending' },
      { session, sort: { _ord: -1 }, projection: { _id: 1 } },
    );
    if (!newest) return false;
    const max = Math.max(1, Math.trunc(e.coalesce.max));
    const joined = await outbox.findOneAndUpdate(
      {
        _id: newest._id,
        state: 'pending',
        $or: [{ lease: { $exists: false } }, { lease: null }],
        // Never tried: a retried entry's due time, attempts and hold are its own offer's (as SQLite's insert).
        attempts: 0,
        // Fewer items than the smaller of its own cap and this entry's.
        $expr: { $lt: [{ $size: { $ifNull: ['$action.message.items', []] } }, { $min: [{ $ifNull: ['$coalesce.max', max] }, max] }] },
      },
      // As a plain document: the driver's typing of $push cannot see into the dotted path of an untyped collection.
      { $push: { 'action.message.items': encode(e.action.message.args) } } as Document,
      { session, projection: { _id: 1 } },
    );
    return joined !== null;
  };
  return async (session, entries) => {
    const at = now().toISOString();
    // One after the other: a transaction's operations must not run in parallel.
    for (const e of entries) {
      if (await join(session, e)) continue;
      const row = outboxRow(withFirstItem(e), newId(), at);
      await outbox.insertOne({ _id: row.id, ...encode(row), _ord: new ObjectId() }, { session });
    }
  };
}

/** Due order: `nextAttemptAt`, then insertion (`_ord`, an ObjectId, whose hex string sorts as it does). */
const dueKey = (d: Doc): string => `${String(d.nextAttemptAt)}\u0000${d._ord instanceof ObjectId ? d._ord.toHexString() : ''}`;

/** The same shape as the SQLite adapter's: `lease` is always present, undefined when free. */
function toOutbox(doc: Doc): OutboxEntry {
  const entry = fromDoc<OutboxEntry>(doc)!;
  return { ...entry, lease: entry.lease ?? undefined };
}

export function mongoOutbox(m: Mongo): OutboxStore {
  const outbox = m.db.collection<Doc>('outbox');

  /** Settles a leased entry: only its lease owner can. */
  const settle = async (id: string, owner: string, update: object) =>
    void (await outbox.updateOne({ _id: str(id, 'outbox id'), 'lease.owner': str(owner, 'owner') }, update));

  return {
    /**
     * One read of the candidates in due order (the `due` index), then one conditional update per candidate, all at
     * once: each update's filter says "still claimable", so of two processes claiming the same entry exactly one
     * matches it. Each is `findOneAndUpdate` on `_id`, which returns the entry as leased, not as it was read. Only
     * when another claimer took some candidates between the read and the updates is there another round, for as many
     * as are still missing, so concurrent claimers together lease as many as are due, up to their limits.
     */
    claim: async (owner, at, leaseUntil, limit) => {
      str(owner, 'owner');
      str(at, 'time');
      str(leaseUntil, 'leaseUntil');
      const claimable = {
        state: 'pending',
        nextAttemptAt: { $lte: at },
        $or: [{ lease: { $exists: false } }, { 'lease.until': { $lte: at } }],
      };
      const lease = { $set: { lease: { owner, until: leaseUntil } } };
      const max = int(limit, 'limit') < 0 ? Infinity : limit; // SQLite: LIMIT -1 means no limit
      const claimed: Doc[] = [];
      while (claimed.length < max) {
        // Not the ones this call leased already (a lease that ends by `at` would leave them claimable).
        const filter = { ...claimable, _id: { $nin: claimed.map((d) => d._id) } };
        const want = max - claimed.length;
        const candidates = await outbox
          .find(filter, { projection: { _id: 1 } })
          .sort({ nextAttemptAt: 1, _ord: 1 })
          .limit(want === Infinity ? 0 : want)
          .toArray();
        const won = (
          await Promise.all(
            candidates.map((c) => outbox.findOneAndUpdate({ ...claimable, _id: c._id }, lease, { returnDocument: 'after' })),
          )
        ).filter((d): d is Doc => d !== null);
        claimed.push(...won);
        // None lost: nothing else was claimable when the candidates were read.
        if (won.length === candidates.length) break;
      }
      return claimed.sort((a, b) => (dueKey(a) < dueKey(b) ? -1 : 1)).map(toOutbox);
    },
    /**
     * One conditional update for all the ids (owner and state are the compare-and-set), then one read of which of
     * them now carry this very lease: none of those can change hands before `leaseUntil`, and one this process settled
     * meanwhile is rightly not reported as held.
     */
    renew: async (owner, ids, leaseUntil) => {
      const list = strings(ids, 'outbox ids');
      str(owner, 'owner');
      str(leaseUntil, 'leaseUntil');
      if (!list.length) return [];
      const mine = { _id: { $in: list }, state: 'pending', 'lease.owner': owner };
      await outbox.updateMany(mine, { $set: { 'lease.until': leaseUntil } });
      const held = await outbox.find({ ...mine, 'lease.until': leaseUntil }, { projection: { _id: 1 } }).toArray();
      const ok = new Set(held.map((d) => String(d._id)));
      return list.filter((id) => ok.has(id));
    },
    markSent: async (id, owner) =>
      settle(id, owner, { $set: { state: 'sent', _sentAt: m.now() }, $unset: { lease: '' }, $inc: { attempts: 1 } }),
    /**
     * One bulk write, unordered: each update is guarded by its own lease, so they need no transaction to be right, and
     * one round trip instead of one per entry is the saving.
     */
    markSentMany: async (owner, sent) => {
      str(owner, 'owner');
      if (!sent.length) return 0;
      const sentAt = m.now();
      const ops = sent.map(({ id, attempts = 1, lastError }) => ({
        updateOne: {
          filter: { _id: str(id, 'outbox id'), 'lease.owner': owner },
          update: {
            $set: { state: 'sent', _sentAt: sentAt, ...(lastError === undefined ? {} : { lastError: str(lastError, 'error') }) },
            $unset: { lease: '' },
            $inc: { attempts: int(attempts, 'attempts') },
          },
        },
      }));
      return (await outbox.bulkWrite(ops, { ordered: false })).modifiedCount;
    },
    retryLater: async (id, owner, at, error, attempts = 1) =>
      settle(id, owner, {
        $set: { nextAttemptAt: str(at, 'time'), lastError: str(error, 'error') },
        $unset: { lease: '' },
        $inc: { attempts: int(attempts, 'attempts') },
      }),
    markFailed: async (id, owner, error, attempts = 1) =>
      settle(id, owner, {
        $set: { state: 'failed', lastError: str(error, 'error') },
        $unset: { lease: '' },
        $inc: { attempts: int(attempts, 'attempts') },
      }),
    // The rate limiter's "not yet": the lease goes back, only attempts already made in hand are counted, the last error stays.
    defer: async (id, owner, at, attempts = 0, lastError) =>
      settle(id, owner, {
        $set: { nextAttemptAt: str(at, 'time'), ...(lastError === undefined ? {} : { lastError: str(lastError, 'error') }) },
        $unset: { lease: '' },
        ...(attempts ? { $inc: { attempts: int(attempts, 'attempts') } } : {}),
      }),
    failedFor: async (partnerTenantId, limit) => {
      const filter = { state: 'failed', partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
      return limited(limit, (n) => outbox.find(filter).sort({ createdAt: -1, _ord: -1 }).limit(n).toArray()).then((docs) =>
        docs.map(toOutbox),
      );
    },
    retryFailed: async (partnerTenantId, ids, at) => {
      const list = strings(ids, 'outbox ids');
      // The guard: only that partner's entries that are failed now (one a concurrent call requeued is pending).
      const filter = { _id: { $in: list }, state: 'failed', partnerTenantId: str(partnerTenantId, 'partnerTenantId') };
      const update = { $set: { state: 'pending', nextAttemptAt: str(at, 'time'), attempts: 0 }, $unset: { lease: '' } };
      if (!list.length) return 0;
      // One transaction: all of them or (on error) none. A concurrent call on the same entries meets a write conflict
      // and the driver re-runs it, when it finds them pending: each entry is counted once in all.
      return m.transaction(async (session) => (await outbox.updateMany(filter, update, { session })).modifiedCount);
    },
    stats: async () => {
      const pending = await outbox.countDocuments({ state: 'pending' });
      const failed = await outbox.countDocuments({ state: 'failed' });
      const oldest = await outbox.findOne({ state: 'pending' }, { sort: { createdAt: 1 }, projection: { createdAt: 1 } });
      return { pending, failed, oldestPendingAt: typeof oldest?.createdAt === 'string' ? oldest.createdAt : undefined };
    },
    forSubject: async (subjectId) =>
      (
        await outbox
          .find({ 'subject.id': str(subjectId, 'subjectId') })
          .sort({ createdAt: 1, _ord: 1 })
          .toArray()
      ).map(toOutbox),
    pruneSent: async (sentBefore, limit) => {
      const before = new Date(str(sentBefore, 'time'));
      if (Number.isNaN(before.getTime())) throw new Error(`store: sentBefore must be an ISO time, got ${sentBefore}`);
      if (int(limit, 'limit') <= 0) return 0;
      // The oldest first, off the `sent` index; the delete repeats the state condition, so only sent entries ever go.
      const ids = (
        await outbox
          .find({ state: 'sent', _sentAt: { $lt: before } }, { projection: { _id: 1 } })
          .sort({ _sentAt: 1 })
          .limit(limit)
          .toArray()
      ).map((d) => d._id);
      if (!ids.length) return 0;
      return (await outbox.deleteMany({ _id: { $in: ids }, state: 'sent' })).deletedCount;
    },
  };
}
