import { MongoClient, MongoServerError, type CommandStartedEvent, type IndexDescription, type UpdateFilter } from 'mongodb';
import { searchTerms, termText } from '../../src/marketplace/store';
import { applyDecision } from '../../src/offers/rules';
import { chainResponse, verifyChain } from '../../src/store/chain';
import { COLLECTIONS, openMongoStore } from '../../src/store/mongo';
import { indexChanges, isRetryable, MAX_ATTEMPTS, openDb, prepare, RaceLost, retrying, type Mongo } from '../../src/store/mongo/db';
import { mongoLeads } from '../../src/store/mongo/marketplace';
import { mongoFulfilmentInsert } from '../../src/store/mongo/fulfilments';
import { BY_PARTNER_SORT, mongoOffers, OFFER_COLLECTIONS } from '../../src/store/mongo/offers';
import { mongoOutbox, mongoOutboxInsert } from '../../src/store/mongo/outbox';
import { mongoRelationshipDocs, mongoRelationships } from '../../src/store/mongo/relationships';
import { mongoResponseWriter, RESPONSE_VALIDATOR } from '../../src/store/mongo/responses';
import type { Store } from '../../src/store/types';
import { describeStoreContract, type StoreHarness } from './contract';
import { contractContext } from './contract/context';
import { T0, lead, listing, newResponse, notifyIssuer, offer, plus, plusDays, relationship, requester } from './support/fixtures';

/**
 * The store contract against MongoDB: a replica set at MONGODB_URI, or one started here from the mongod binary at
 * MONGOMS_SYSTEM_BINARY (mongodb-memory-server-core). Without either the suite says, by name, that it was skipped.
 * The adapter's own cases follow: those that need no server run always, the others with the contract.
 */
const SKIPPED = 'store contract: MongoDB — SKIPPED: set MONGODB_URI (replica set) or MONGOMS_SYSTEM_BINARY to run it';

const uri = process.env.MONGODB_URI || undefined;
const systemBinary = process.env.MONGOMS_SYSTEM_BINARY || undefined;

/** The little of mongodb-memory-server-core used here (it is an optional dev dependency, so not typed). */
interface MemoryReplSet {
  getUri(): string;
  stop(options?: { doCleanup?: boolean; force?: boolean }): Promise<boolean>;
}
interface MemoryServerModule {
  MongoMemoryReplSet: { create(options: { replSet: { count: number; storageEngine: string } }): Promise<MemoryReplSet> };
}

async function loadMemoryServer(): Promise<MemoryServerModule> {
  const name = 'mongodb-memory-server-core';
  try {
    // Loaded by a name in a variable, guarded: the package is only needed for this way of running the suite.
    return (await import(name)) as MemoryServerModule;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND' || /Cannot find module/.test(e.message ?? '')) {
      throw new Error(
        `MONGOMS_SYSTEM_BINARY is set (${systemBinary}), so the MongoDB store contract starts a replica set with ` +
          `mongodb-memory-server-core, which is not installed. Run \`npm i -D mongodb-memory-server-core\`, or set ` +
          `MONGODB_URI to a replica set instead.`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * One database per run (unique name), emptied before every `open`/`openHandles` and dropped at the end; each
 * store or handle is its own MongoClient, so `Promise.all` over handles is a real race. `setup` starts the server
 * once however often it is called (the contract and the adapter's cases share it); `uri` is where it runs.
 */
function mongoHarness(): StoreHarness & { uri(): string } {
  const dbName = `po_contract_${Date.now().toString(36)}_${process.pid}`;
  let replSet: MemoryReplSet | undefined;
  let target: string | undefined;
  let admin: MongoClient | undefined;
  let started: Promise<void> | undefined;
  const opened: Store[] = [];

  const empty = async () => {
    for (const c of await admin!.db(dbName).collections()) await c.deleteMany({});
  };

  return {
    uri: () => target!,
    setup() {
      started ??= (async () => {
        if (uri) {
          target = uri;
        } else {
          const { MongoMemoryReplSet } = await loadMemoryServer();
          replSet = await MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' } });
          target = replSet.getUri();
        }
        admin = await new MongoClient(target).connect();
      })();
      return started;
    },
    async open(now) {
      await empty();
      const store = await openMongoStore(target!, dbName, now);
      opened.push(store);
      return store;
    },
    async openHandles(n) {
      await empty();
      const handles: Store[] = [];
      // One after the other, so only the first creates collections and indexes.
      for (let i = 0; i < n; i++) handles.push(await openMongoStore(target!, dbName));
      opened.push(...handles);
      return handles;
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    },
    async dispose() {
      try {
        if (admin) await admin.db(dbName).dropDatabase();
      } finally {
        await admin?.close();
        await replSet?.stop({ doCleanup: true, force: true });
      }
    },
  };
}

/** A write conflict as the server reports it, labelled for a re-run of the whole transaction. */
const writeConflict = () =>
  new MongoServerError({
    message:
      'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.',
    code: 112,
    codeName: 'WriteConflict',
    errorLabels: ['TransientTransactionError'],
  });

/** Whether an index with this key serves a find with equality on `equal` (in any order) sorted by `sort`, with no SORT stage. */
function servesSort(key: Record<string, unknown>, equal: string[], sort: Record<string, number>): boolean {
  const fields = Object.entries(key);
  const head = fields.slice(0, equal.length).map(([f]) => f);
  if (head.length !== equal.length || !equal.every((f) => head.includes(f))) return false;
  const rest = fields.slice(equal.length, equal.length + Object.keys(sort).length);
  const same = rest.every(([f, d], i) => Object.keys(sort)[i] === f && Object.values(sort)[i] === d);
  const reversed = rest.every(([f, d], i) => Object.keys(sort)[i] === f && Object.values(sort)[i] === -(d as number));
  return rest.length === Object.keys(sort).length && (same || reversed);
}

describe('MongoDB adapter, without a server', () => {
  it('indexes listing text as the terms searchTerms makes of it: runs of letters and digits, lower-cased', () => {
    expect(termText('Microsoft Defender™ for Plus_Pro, e-mail: a.b@c.de')).toBe('microsoft defender for plus pro e mail a b c de');
    for (const text of ['Plus_Pro', 'Defender™', "Émile O'Neil-Smith", 'Zürich/Genève ½ x² ٣', '東京 テキスト', 'snake_case_name', '  ']) {
      expect([text, termText(text).split(' ').filter(Boolean)]).toEqual([text, searchTerms([text])]);
    }
    expect(termText(undefined)).toBe('');
  });

  it('retries a failure labelled TransientTransactionError (a write conflict the driver gave up on) like a lost race, by one rule', async () => {
    expect(isRetryable(writeConflict())).toBe(true);
    expect(isRetryable(new RaceLost('chain moved'))).toBe(true);
    expect(isRetryable(new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }))).toBe(false);
    expect(isRetryable(new TypeError('bug'))).toBe(false);

    const failing = (errors: Error[]) =>
      jest.fn(async () => {
        const err = errors.shift();
        if (err) throw err;
        return 'recorded';
      });
    const conflicted = failing([writeConflict(), new RaceLost('chain moved')]);
    await expect(retrying('decide', conflicted)).resolves.toBe('recorded');
    expect(conflicted).toHaveBeenCalledTimes(3);
    // `settled` answers from what the winner wrote, and is asked only after a lost race.
    const settled = jest.fn(async () => 'already');
    await expect(retrying('decide', failing([writeConflict()]), settled)).resolves.toBe('already');
    const bug = failing([new TypeError('bug')]);
    await expect(retrying('decide', bug, settled)).rejects.toThrow('bug');
    expect(bug).toHaveBeenCalledTimes(1);
    expect(settled).toHaveBeenCalledTimes(1);
    const always = jest.fn(async () => {
      throw writeConflict();
    });
    await expect(retrying('record lead C-1', always)).rejects.toThrow(
      `Could not record lead C-1: it kept losing races (${MAX_ATTEMPTS} attempts)`,
    );
    expect(always).toHaveBeenCalledTimes(MAX_ATTEMPTS);
  });

  describe('indexChanges (what prepare() drops and creates)', () => {
    const wanted = (name: string) => COLLECTIONS.filter((c) => c.name === name).flatMap((c) => c.indexes ?? []);
    /** A wanted non-text index as listIndexes lists it. */
    const listed = (ix: IndexDescription) => ({ v: 2, ...ix });
    /** The listings' text index as the server lists it (fts_spec.cpp, fixSpec): `_fts`/`_ftsx` in the key, every weight. */
    const listedText = {
      v: 2,
      key: { published: 1, _fts: 'text', _ftsx: 1 },
      name: 'published_text',
      weights: { '_ft.description': 1, '_ft.expertise': 4, '_ft.headline': 10, '_ft.serviceNames': 8, '_ft.services': 8 },
      default_language: 'none',
      language_override: '_ftsLanguage',
      textIndexVersion: 3,
    };
    const ID = { v: 2, key: { _id: 1 }, name: '_id_' };

    it('changes nothing when the deployed indexes are the wanted ones as listIndexes lists them, the text index included', () => {
      for (const name of new Set(COLLECTIONS.map((c) => c.name))) {
        const deployed = [ID, ...wanted(name).map((ix) => (ix.name === 'published_text' ? listedText : listed(ix)))];
        expect([name, indexChanges(deployed, wanted(name))]).toEqual([name, { drop: [], create: [] }]);
      }
      expect(indexChanges([ID], wanted('listings')).create).toEqual(wanted('listings'));
    });

    it("drops and recreates an index whose definition changed (the text index before its successor), and keeps an operator's own index", () => {
      // As the adapter deployed them before: the text index on the fields themselves, offers' partner_created ascending.
      const oldText = {
        ...listedText,
        weights: { description: 1, expertise: 4, headline: 10, serviceNames: 8, services: 8 },
      };
      const others = wanted('listings').filter((ix) => ix.name !== 'published_text');
      const listings = indexChanges([ID, oldText, ...others.map(listed)], wanted('listings'));
      expect(listings).toEqual({ drop: ['published_text'], create: wanted('listings').filter((ix) => ix.name === 'published_text') });

      const oldOffers = [ID, ...wanted('offers').map(listed)].map((ix) =>
        ix.name === 'partner_created' ? { ...ix, key: { partnerTenantId: 1, createdAt: 1 } } : ix,
      );
      const byHand = { v: 2, key: { state: 1, kind: 1 }, name: 'state_kind_by_hand' };
      const offers = indexChanges([...oldOffers, byHand], wanted('offers'));
      expect(offers.drop).toEqual(['partner_created']);

      // An index that would clash with a wanted one goes: the same key under another name, or another text index.
      const renamed = { ...listed(wanted('offers').find((ix) => ix.name === 'partner_pipeline')!), name: 'pipeline_by_hand' };
      expect(indexChanges([ID, renamed], wanted('offers')).drop).toEqual(['pipeline_by_hand']);
      const otherText = { ...listedText, name: 'headline_text', weights: { headline: 1 } };
      expect(indexChanges([ID, otherText, byHand], wanted('listings')).drop).toEqual(['headline_text']);
      expect(offers.create.map((ix) => [ix.name, ix.key])).toEqual([['partner_created', { partnerTenantId: 1, ...BY_PARTNER_SORT }]]);

      // Options count: a unique index that lost `unique`, or a partial one with another filter, is another index.
      const pending = wanted('offers').find((ix) => ix.name === 'pendingKey_unique')!;
      expect(indexChanges([listed({ ...pending, unique: false })], [pending]).drop).toEqual(['pendingKey_unique']);
      expect(indexChanges([listed({ ...pending, partialFilterExpression: { pendingKey: { $type: 'string' } } })], [pending]).drop).toEqual([
        'pendingKey_unique',
      ]);
    });
  });

  it("reads offers' listByPartner order off an index, with and without the approver filter", () => {
    const keys = OFFER_COLLECTIONS.flatMap((c) => c.indexes ?? []).map((ix) => ix.key as Record<string, unknown>);
    expect(keys.some((k) => servesSort(k, ['partnerTenantId'], BY_PARTNER_SORT))).toBe(true);
    expect(keys.some((k) => servesSort(k, ['partnerTenantId', 'approverEmail'], BY_PARTNER_SORT))).toBe(true);
    // And no index left that only repeats the pipeline index's leading keys.
    expect(keys).not.toContainEqual({ partnerTenantId: 1, createdAt: 1 });
  });

  it('lists in the response validator every field a record has, and requires the ones every record has', () => {
    const schema = (RESPONSE_VALIDATOR as { $jsonSchema: { required: string[]; properties: Record<string, { required?: string[] }> } })
      .$jsonSchema;
    const o = offer({ state: 'sent' });
    for (const decision of ['accepted', 'declined'] as const) {
      const record = { _id: 'x', ...chainResponse(newResponse(o, decision), null) };
      expect(Object.keys(record).filter((k) => !(k in schema.properties))).toEqual([]);
      expect(schema.required.filter((k) => !(k in record))).toEqual([]);
      expect(schema.properties.by!.required!.filter((k) => !(k in record.by))).toEqual([]);
    }
    expect(schema.required).not.toContain('comment');
  });
});

if (uri || systemBinary) {
  const harness = mongoHarness();
  afterAll(() => harness.dispose!(), 60_000);
  describeStoreContract(uri ? 'MongoDB (MONGODB_URI)' : 'MongoDB (mongodb-memory-server replica set)', { ...harness, dispose: undefined });

  describe('MongoDB adapter', () => {
    const clients: MongoClient[] = [];
    const closers: Array<() => Promise<void>> = [];
    let n = 0;
    /** A database of this test's own, dropped after it. */
    const freshDb = async () => {
      const client = await new MongoClient(harness.uri(), { monitorCommands: true }).connect();
      clients.push(client);
      const name = `po_adapter_${Date.now().toString(36)}_${process.pid}_${++n}`;
      closers.push(async () => void (await client.db(name).dropDatabase()));
      return { client, name, db: client.db(name) };
    };
    /** The command names this client sends while `run` runs. */
    const commandsOf = async (client: MongoClient, run: () => Promise<unknown>) => {
      const names: string[] = [];
      const listen = (e: CommandStartedEvent) => void names.push(e.commandName);
      client.on('commandStarted', listen);
      try {
        await run();
      } finally {
        client.off('commandStarted', listen);
      }
      return names;
    };
    const open = async (name: string) => {
      const store = await openMongoStore(harness.uri(), name);
      closers.push(() => store.close());
      return store;
    };

    beforeAll(() => harness.setup!(), 180_000);
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });

    it("prepare() replaces an index deployed with another definition, keeps an operator's own, backfills `_ft`, and then changes nothing", async () => {
      const { client, name, db } = await freshDb();
      // What the adapter deployed before: offers' partner_created ascending, the text index on the fields themselves.
      await db.collection('offers').createIndexes([
        { key: { partnerTenantId: 1, createdAt: 1 }, name: 'partner_created' },
        { key: { state: 1, kind: 1 }, name: 'state_kind_by_hand' },
      ]);
      await db.collection('listings').createIndex(
        { published: 1, headline: 'text', serviceNames: 'text', services: 'text', expertise: 'text', description: 'text' },
        {
          name: 'published_text',
          weights: { headline: 10, serviceNames: 8, services: 8, expertise: 4, description: 1 },
          default_language: 'none',
          language_override: '_ftsLanguage',
        },
      );
      const old = listing({ headline: 'Microsoft Defender™ rollouts', expertise: ['Plus_Pro licensing'] });
      await db.collection('listings').insertOne({ ...old, _id: old.id } as never);

      const store = await open(name);
      const indexes = async (collection: string) =>
        (await db.collection(collection).listIndexes().toArray()) as Array<{ name: string; key: object; weights?: object }>;
      const offers = await indexes('offers');
      expect(offers.find((ix) => ix.name === 'partner_created')?.key).toEqual({ partnerTenantId: 1, createdAt: -1, _id: 1 });
      expect(offers.find((ix) => ix.name === 'state_kind_by_hand')?.key).toEqual({ state: 1, kind: 1 });
      const text = (await indexes('listings')).find((ix) => ix.name === 'published_text');
      expect(Object.keys(text?.weights ?? {}).sort()).toEqual([
        '_ft.description',
        '_ft.expertise',
        '_ft.headline',
        '_ft.serviceNames',
        '_ft.services',
      ]);
      for (const word of ['defender', 'plus', 'pro'])
        expect((await store.listings.search({ words: [word], limit: 5, offset: 0 })).map((r) => r.listing)).toEqual([old]);

      const again = await commandsOf(client, () => prepare(db, COLLECTIONS));
      expect(again.filter((c) => ['create', 'collMod', 'createIndexes', 'dropIndexes', 'update'].includes(c))).toEqual([]);
    });

    it('refuses an update that adds, removes, renames or retypes a field of a response record, or changes its id', async () => {
      const { name, db } = await freshDb();
      const store = await open(name);
      const o = offer({ state: 'sent' });
      await store.offers.create(o, []);
      const next = applyDecision(o, 'accepted', new Date(plus(T0, 1)));
      const result = await store.offers.decide(next, o.version, newResponse(o, 'accepted'), []);
      expect(result.status).toBe('recorded');
      const responses = db.collection<{ _id: string; [field: string]: unknown }>('responses');
      const [record] = await store.responses.forSubject(o.id);
      const _id = record!.id;
      const updates: Array<UpdateFilter<{ _id: string; [field: string]: unknown }>> = [
        { $set: { extra: 1 } },
        { $unset: { hash: '' } },
        { $rename: { decision: 'answer' } },
        { $set: { seq: 'one' } },
        { $set: { hash: 'not a hash' } },
        { $set: { id: 'another id' } },
        { $set: { 'by.email': 'megan@contoso.com' } },
      ];
      for (const update of updates) {
        await expect(responses.updateOne({ _id }, update)).rejects.toMatchObject({ code: 121 }); // DocumentValidationFailure
      }
      await expect(responses.replaceOne({ _id }, { subjectId: o.id })).rejects.toMatchObject({ code: 121 });
      await expect(responses.insertOne({ _id: 'stray', subjectId: o.id })).rejects.toMatchObject({ code: 121 });
      expect(await store.responses.forSubject(o.id)).toEqual([record]);
      // What a validator cannot see: a value changed to another of the same type. The chain shows it.
      await responses.updateOne({ _id }, { $set: { decision: 'declined' } });
      expect(verifyChain(await store.responses.chain(record!.customerTenantId))).toBe(false);
    });

    it('offers.decide, relationships.decide and leads.create re-run a transaction the driver gave up on (one retry rule)', async () => {
      const { name } = await freshDb();
      const { mongo, close } = await openDb(
        harness.uri(),
        name,
        () => new Date(T0),
        COLLECTIONS,
        () => undefined,
      );
      closers.push(close);
      let failures = 0;
      // The driver re-runs a transient failure for up to 120 seconds, then rethrows it: this one comes straight out.
      const flaky: Mongo = { ...mongo, transaction: (fn) => (failures-- > 0 ? Promise.reject(writeConflict()) : mongo.transaction(fn)) };
      const outbox = mongoOutboxInsert(flaky);
      const responses = mongoResponseWriter(flaky);
      const docs = mongoRelationshipDocs(flaky);
      const offers = mongoOffers(flaky, { relationships: docs, fulfilments: mongoFulfilmentInsert(flaky), responses, outbox });
      const relationships = mongoRelationships(flaky, { docs, responses, outbox });
      const leads = mongoLeads(flaky, outbox);

      const o = offer({ state: 'sent' });
      await offers.create(o, []);
      const next = applyDecision(o, 'accepted', new Date(plus(T0, 1)));
      failures = 2;
      expect((await offers.decide(next, o.version, newResponse(o, 'accepted'), [notifyIssuer(next, 'accepted')])).status).toBe('recorded');

      const r = relationship({ state: 'approvalPending' });
      await relationships.create(r, []);
      const ctx = contractContext(harness, () => undefined as never);
      failures = 2;
      expect((await relationships.decide(ctx.refusal(r))).status).toBe('recorded');

      const ld = lead(listing(), requester());
      failures = 2;
      expect(await leads.create(ld, [], plusDays(T0, -7))).toEqual({ created: true, lead: ld });
      expect(failures).toBe(-1);
    });

    it('claims with one read of the candidates and one conditional update each, returning them in due order', async () => {
      const { client, name, db } = await freshDb();
      const store = await open(name);
      const o = offer({ createdAt: T0 });
      await store.offers.create(
        o,
        Array.from({ length: 20 }, (_, i) => notifyIssuer(o, `notice ${i}`)),
      );
      const outbox = mongoOutbox({ db, now: () => new Date(), transaction: () => Promise.reject(new Error('no transaction here')) });
      const at = new Date(Date.now() + 60_000).toISOString();
      const until = new Date(Date.now() + 3_600_000).toISOString();
      let claimed: Awaited<ReturnType<typeof outbox.claim>> = [];
      const commands = await commandsOf(client, async () => (claimed = await outbox.claim('worker-1', at, until, 20)));
      expect(commands.sort()).toEqual(['find', ...Array<string>(20).fill('findAndModify')]);
      expect(claimed.map((e) => e.id)).toEqual((await store.outbox.forSubject(o.id)).map((e) => e.id));
      expect(await commandsOf(client, () => outbox.claim('worker-2', at, until, 20))).toEqual(['find']);
    });

    it("reads offers' listByPartner order off an index: no SORT stage, with and without the approver filter", async () => {
      const { name, db } = await freshDb();
      const store = await open(name);
      for (let i = 0; i < 5; i++) await store.offers.create(offer({ createdAt: plus(T0, i) }), []);
      const o = offer();
      for (const [filter, index] of [
        [{ partnerTenantId: o.partnerTenantId }, 'partner_created'],
        [{ partnerTenantId: o.partnerTenantId, approverEmail: o.approverEmail }, 'partner_approver_created'],
      ] as const) {
        const plan = JSON.stringify(
          (await db.collection('offers').find(filter).sort(BY_PARTNER_SORT).limit(10).explain('queryPlanner')).queryPlanner,
        );
        expect(plan).toContain(`"indexName":"${index}"`);
        expect(plan).not.toMatch(/"stage":"SORT"/);
      }
    });
  });
} else {
  console.warn(SKIPPED);
  test(SKIPPED, () => {
    expect(uri ?? systemBinary).toBeUndefined();
  });
}
