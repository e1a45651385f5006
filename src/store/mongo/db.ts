import {
  MongoClient,
  ObjectId,
  WriteConcern,
  type ClientSession,
  type Collection,
  type CollectionInfo,
  type Db,
  type Document,
  type IndexDescription,
  type TransactionOptions,
} from 'mongodb';
import { canonical } from '../chain';

/**
 * A stored document: the domain object (keys escaped, see `encode`) under `_id` = its domain id, plus adapter-only
 * fields whose names start with `_` (`ADAPTER_FIELDS`). Reads strip them and return the domain shape.
 */
export interface Doc extends Document {
  _id: string;
}

/**
 * Top-level fields only the adapter writes; never part of a domain object: `_ord` insertion order, `_email`/`_upn`
 * lower-cased lookups, `_score` a search's text score, `_ft` a listing's text as search terms (marketplace.ts), `_sentAt`
 * when an outbox entry was marked sent (a Date, for retention: outbox.ts).
 */
const ADAPTER_FIELDS = ['_id', '_ord', '_email', '_upn', '_score', '_ft', '_sentAt'] as const;

/** What every capability's file is given: the database, the clock, and transactions on the client it came from. */
export interface Mongo {
  readonly db: Db;
  readonly now: () => Date;
  /** Runs `fn` in one transaction (snapshot reads, majority commit); the driver re-runs it on a transient error. */
  transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T>;
}

/**
 * A collection as the capability that owns it declares it. Several declarations may name one collection (the
 * pipeline's indexes on offers and relationships); `prepare` joins them.
 */
export interface CollectionSpec {
  name: string;
  /** Its indexes besides `_id`, each named: `prepare` makes the deployed set exactly this (see `indexChanges`). */
  indexes?: IndexDescription[];
  /** Refused by the server on every insert and update a document fails (`validationAction: 'error'`). */
  validator?: Document;
  /** Brings documents written before a change up to date; runs at every start, so it must be cheap when none need it. */
  backfill?: (db: Db) => Promise<void>;
}

const TXN: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

/** Where `prepare` reports what it could not do but the bot can run without (the operator's to fix). */
export type Warn = (message: string) => void;

/**
 * Connects, checks that the server can run transactions, and prepares the collections (`prepare`). Every write
 * that must happen together runs in one transaction, which is why the server must be a replica set or a sharded
 * cluster.
 */
export async function openDb(
  uri: string,
  dbName: string,
  now: () => Date,
  collections: CollectionSpec[],
  warn: Warn,
): Promise<{ mongo: Mongo; ping: () => Promise<void>; close: () => Promise<void> }> {
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
    await prepare(db, collections, warn);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return {
    mongo: { db, now, transaction: (fn) => inTransaction(client, fn) },
    ping: async () => void (await db.command({ ping: 1 })),
    close: async () => client.close(),
  };
}

async function inTransaction<T>(client: MongoClient, fn: (session: ClientSession) => Promise<T>): Promise<T> {
  const session = client.startSession();
  try {
    return await session.withTransaction(fn, TXN);
  } finally {
    await session.endSession();
  }
}

// ---- prepare: collections, validators and indexes as the capabilities declare them ----

/**
 * Creates the collections (so transactions never have to), sets their validators and makes their indexes what the
 * declarations say, then runs the backfills. Idempotent: a start with nothing changed only reads the catalog.
 */
export async function prepare(db: Db, specs: CollectionSpec[], warn: Warn = () => undefined): Promise<void> {
  const collections = joinSpecs(specs);
  const existing = new Map((await db.listCollections().toArray()).map((c) => [c.name, c as CollectionInfo]));
  for (const c of collections) {
    await ensureCollection(db, c, existing.get(c.name), warn);
    await syncIndexes(db.collection(c.name), c.indexes);
  }
  for (const c of collections) for (const backfill of c.backfills) await backfill(db);
}

interface JoinedSpec {
  name: string;
  indexes: IndexDescription[];
  validator?: Document;
  backfills: Array<(db: Db) => Promise<void>>;
}

function joinSpecs(specs: CollectionSpec[]): JoinedSpec[] {
  const joined = new Map<string, JoinedSpec>();
  for (const s of specs) {
    const j = joined.get(s.name) ?? { name: s.name, indexes: [], backfills: [] };
    joined.set(s.name, j);
    j.indexes.push(...(s.indexes ?? []));
    if (s.validator) {
      if (j.validator) throw new Error(`store: two validators declared for the ${s.name} collection`);
      j.validator = s.validator;
    }
    if (s.backfill) j.backfills.push(s.backfill);
  }
  return [...joined.values()];
}

const VALIDATION = { validationLevel: 'strict', validationAction: 'error' } as const;

async function ensureCollection(db: Db, spec: JoinedSpec, info: CollectionInfo | undefined, warn: Warn): Promise<void> {
  const wanted = spec.validator ? { validator: spec.validator, ...VALIDATION } : {};
  if (!info) {
    try {
      await db.createCollection(spec.name, wanted);
      return;
    } catch (err) {
      if (errorCode(err) !== 48) throw err; // NamespaceExists: another process was quicker; check what it made
      info = (await db.listCollections({ name: spec.name }).toArray())[0];
    }
  }
  if (!validatorDiffers(info?.options, spec.validator)) return;
  try {
    // An empty validator removes one: the declarations are the whole truth, as for indexes.
    await db.command({ collMod: spec.name, validator: spec.validator ?? {}, ...VALIDATION });
  } catch (err) {
    if (errorCode(err) !== 13) throw err;
    // Unauthorized: the usual readWrite user may not run collMod. The bot still runs (the hash chain still shows any
    // change to a record); the operator is told, each start, how to let the server refuse stray updates as well.
    warn(
      `MongoDB refused to set the validator of the ${spec.name} collection: the database user may not run collMod ` +
        `(readWrite does not include it; dbAdmin does). Until it is set, the server does not refuse changes to ` +
        `${spec.name}. Grant the role, or run this once as a user who may: ` +
        `db.runCommand(${JSON.stringify({ collMod: spec.name, validator: spec.validator ?? {}, ...VALIDATION })})`,
    );
  }
}

/** Whether the collection's options (listCollections) differ from the wanted validator, level and action. */
function validatorDiffers(options: Document | undefined, validator: Document | undefined): boolean {
  const deployed = options?.validator as Document | undefined;
  const hasDeployed = deployed !== undefined && Object.keys(deployed).length > 0;
  if (!validator) return hasDeployed;
  return (
    !hasDeployed ||
    canonical(deployed) !== canonical(validator) ||
    (options?.validationLevel ?? 'strict') !== VALIDATION.validationLevel ||
    (options?.validationAction ?? 'error') !== VALIDATION.validationAction
  );
}

async function syncIndexes(collection: Collection, wanted: IndexDescription[]): Promise<void> {
  const { drop, create } = indexChanges((await collection.listIndexes().toArray()) as Document[], wanted);
  for (const name of drop) {
    try {
      await collection.dropIndex(name);
    } catch (err) {
      if (errorCode(err) !== 27) throw err; // IndexNotFound: another process starting at once dropped it first
    }
  }
  if (create.length) await collection.createIndexes(create);
}

/**
 * What `prepare` does to make a collection's indexes the wanted ones: drop every deployed index that has a wanted
 * index's name but another definition, or that would clash with a wanted one (the same key under another name, or a
 * second text index), and create every wanted one not deployed as wanted. Every drop comes before any create: the
 * server refuses to create an index that clashes with a deployed one (86 IndexKeySpecsConflict: the same name with
 * another key; 85 IndexOptionsConflict: the same name with other options, or the same key under another name; a
 * second text index), so a changed index must be gone before its successor is created. Any other index is an
 * operator's (say one Atlas's Performance Advisor suggested) and is left alone.
 */
export function indexChanges(deployed: Document[], wanted: IndexDescription[]): { drop: string[]; create: IndexDescription[] } {
  const byName = new Map(wanted.map((w) => [w.name, w]));
  const wantedKeys = new Map(wanted.map((w) => [canonical(indexKey(w)), w.name]));
  const wantsText = wanted.some(isText);
  const drop: string[] = [];
  const kept = new Set<string>();
  for (const ix of deployed) {
    const name = String(ix.name);
    if (name === '_id_') continue;
    const w = byName.get(name);
    if (w) {
      if (indexShape(ix) === indexShape(w)) kept.add(name);
      else drop.push(name);
    } else if (wantedKeys.has(canonical(indexKey(ix))) || (wantsText && isText(ix))) {
      drop.push(name);
    }
  }
  return { drop, create: wanted.filter((w) => !kept.has(w.name ?? '')) };
}

const isText = (index: Document): boolean => Object.values((index as { key: Document }).key).includes('text');

/** An index's key as `listIndexes` lists it (a text index's text fields folded into `_fts`, `_ftsx`). */
function indexKey(index: Document): Array<[string, unknown]> {
  return (JSON.parse(indexShape(index)) as { key: Array<[string, unknown]> }).key;
}

/**
 * An index reduced to what makes it that index, the same for a wanted definition and for what `listIndexes` says of
 * it: the server lists a text index's key as its other fields around `_fts: 'text', _ftsx: 1`, with every text field
 * in `weights` (1 unless given) and the language options filled in. `v`, `ns`, `background`, `textIndexVersion`,
 * `hidden` and `collation` (none of ours has one) are not compared.
 */
export function indexShape(index: Document): string {
  const ix = index as IndexDescription & { key: Document; weights?: Record<string, number> };
  const key: Array<[string, unknown]> = [];
  const textFields: Record<string, number> = {};
  let text = false;
  for (const [field, value] of Object.entries(ix.key) as Array<[string, unknown]>) {
    if (value === 'text' && field !== '_fts') {
      textFields[field] = 1;
      if (!text) key.push(['_fts', 'text'], ['_ftsx', 1]);
    } else {
      key.push([field, value]);
    }
    if (value === 'text') text = true;
  }
  return canonical({
    key,
    unique: ix.unique === true,
    sparse: ix.sparse === true,
    partialFilterExpression: ix.partialFilterExpression ?? null,
    expireAfterSeconds: ix.expireAfterSeconds ?? null,
    text: text
      ? {
          weights: { ...textFields, ...ix.weights },
          default_language: ix.default_language ?? 'english',
          language_override: ix.language_override ?? 'language',
        }
      : null,
  });
}

// ---- races: the one retry rule of the writes that must win against concurrent ones ----

/** Lost a race that the next attempt can win: thrown inside a transaction, so it aborts and nothing was written. */
export class RaceLost extends Error {}

/**
 * How often a write that lost a race is re-run. Under n-way contention a writer can lose n-1 times in a row, so this
 * is generous; a jittered pause spreads the retries.
 */
export const MAX_ATTEMPTS = 20;

/**
 * Whether a failed attempt lost a race the next one can win: one of ours (`RaceLost`), or a failure the server
 * labels `TransientTransactionError` (a write conflict with a concurrent transaction, an election) that is still
 * failing when the driver's own re-runs of the transaction give up (`withTransaction` stops after 120 seconds).
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RaceLost) return true;
  const e = err as { hasErrorLabel?: (label: string) => boolean } | null;
  return typeof e?.hasErrorLabel === 'function' && e.hasErrorLabel('TransientTransactionError');
}

/**
 * Runs `attempt` (one transaction) until it does not lose a race: `offers.decide`, `relationships.decide` and
 * `leads.create` all retry by this rule. A failed attempt wrote nothing (its transaction was aborted). After a lost
 * race, `settled` may give the answer from what the winner wrote (the same click, recorded first: `already`);
 * undefined re-runs the attempt. Any other failure is rethrown as it is.
 */
export async function retrying<T>(what: string, attempt: () => Promise<T>, settled?: (err: unknown) => Promise<T | undefined>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      const answer = await settled?.(err);
      if (answer !== undefined) return answer;
      if (n >= MAX_ATTEMPTS) throw new Error(`Could not ${what}: it kept losing races (${MAX_ATTEMPTS} attempts)`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * n));
    }
  }
}

// ---- versioned documents: what offers and relationships share ----

/**
 * A collection of documents that change only by compare-and-set on `version`, with the `pendingKey` duplicate guard
 * (offers, relationships). `toDoc` makes the stored document; a replace keeps its `_ord`.
 */
export function versionedDocs<T extends { id: string }>(m: Mongo, name: string, toDoc: (value: T, ord: ObjectId) => Doc) {
  const collection = m.db.collection<Doc>(name);

  /** Replaces the document if its version is still `expectedVersion` (the caller has read it in this transaction). */
  const replace = async (next: T, expectedVersion: number, current: Doc, session: ClientSession) =>
    (await collection.replaceOne({ _id: next.id, version: expectedVersion }, toDoc(next, keptOrd(current)), { session })).matchedCount ===
    1;

  return {
    collection,
    replace,
    /**
     * Runs `insert` in one transaction, unless a document with this `pendingKey` exists: then that one is returned
     * and nothing is written. Null: inserted.
     */
    async create(pendingKey: string | undefined, insert: (session: ClientSession) => Promise<void>): Promise<T | null> {
      const pending = async (session?: ClientSession) =>
        pendingKey ? fromDoc<T>(await collection.findOne({ pendingKey }, { session })) : null;
      try {
        return await m.transaction(async (session) => {
          const existing = await pending(session);
          if (!existing) await insert(session);
          return existing;
        });
      } catch (err) {
        // Another process inserted the same pending document between our check and insert.
        const existing = isDuplicateKey(err) ? await pending() : null;
        if (existing) return existing;
        throw err;
      }
    },
    /**
     * Compare-and-set: replaces the document if its version is still `expectedVersion` and runs `after`, in one
     * transaction; false if stale. The caller has checked the id and version are a string and an integer.
     */
    update: (next: T, expectedVersion: number, after: (session: ClientSession) => Promise<void>): Promise<boolean> =>
      m.transaction(async (session) => {
        const current = await collection.findOne({ _id: next.id }, { session });
        if (!current || current.version !== expectedVersion) return false;
        if (!(await replace(next, expectedVersion, current, session))) return false;
        await after(session);
        return true;
      }),
  };
}

// ---- guards: values that go into filters must be what the types say, never an object carrying operators ----

export function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`store: ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

export function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`store: ${what} must be an array of strings`);
  return value.map((v) => str(v, what));
}

export function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`store: ${what} must be an integer`);
  return value;
}

/** SQL LIMIT semantics: 0 returns nothing, a negative limit means none (MongoDB reads 0 as "no limit"). */
export async function limited<T>(limit: number, run: (n: number) => Promise<T[]>): Promise<T[]> {
  const n = int(limit, 'limit');
  if (n === 0) return [];
  return run(n < 0 ? 0 : n);
}

/**
 * A case-insensitive regular expression that matches `word` literally: every metacharacter escaped (PCRE reads a
 * backslash before any non-alphanumeric character as that character), NUL as `\x00` (a BSON regex cannot hold it).
 */
export function literalRegex(word: string): { $regex: string; $options: string } {
  // eslint-disable-next-line no-control-regex
  return { $regex: word.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&').replace(/\u0000/g, '\\x00'), $options: 'i' };
}

// ---- errors the server reports ----

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

export function isDuplicateKey(err: unknown): boolean {
  return errorCode(err) === 11000;
}

/** A duplicate key on that index: named in the server's message, and given as `keyPattern` by servers since 4.4. */
export function isDuplicateKeyOn(err: unknown, index: { name: string; key: Record<string, number> }): boolean {
  if (!isDuplicateKey(err)) return false;
  const e = err as { message?: unknown; keyPattern?: unknown };
  if (typeof e.message === 'string' && e.message.includes(` index: ${index.name} `)) return true;
  return isPlainObject(e.keyPattern) && Object.keys(e.keyPattern).join() === Object.keys(index.key).join();
}

// ---- documents: the SQLite adapter stores JSON text, so this one stores exactly what JSON keeps ----

/** `_ord` keeps insertion order (ObjectIds from one process increase), like SQLite's rowid; a replace keeps it. */
export const keptOrd = (current: Doc): ObjectId => (current._ord instanceof ObjectId ? current._ord : new ObjectId());

// NUL cannot appear in a BSON key, so it is escaped like `$` and `.`.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[%$.\u0000]/;
// eslint-disable-next-line no-control-regex
const ESCAPABLE = /[%$.\u0000]/g;
const ESCAPED = /%([0-9A-F]{2})/g;

/** `$` and `.` in keys (an Adaptive Card's `$schema`, say) are percent-encoded, so no `$` key ever reaches MongoDB. */
const escapeKey = (k: string): string =>
  NEEDS_ESCAPE.test(k) ? k.replace(ESCAPABLE, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`) : k;

const unescapeKey = (k: string): string =>
  k.includes('%') ? k.replace(ESCAPED, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))) : k;

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * The JSON round trip the SQLite adapter's `doc` column makes (undefined dropped, dates as strings), with keys
 * escaped. Typed as the input for convenience; the only difference is in keys no domain type declares.
 */
export function encode<T extends object>(value: T): T {
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
export function fromDoc<T>(doc: Doc | null): T | null {
  if (!doc) return null;
  const rest: Record<string, unknown> = { ...doc };
  for (const f of ADAPTER_FIELDS) delete rest[f];
  return decode(rest) as T;
}

export const fromDocs = <T>(docs: Doc[]): T[] => docs.map((d) => fromDoc<T>(d)!);
