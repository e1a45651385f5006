import { MongoClient } from 'mongodb';
import { openMongoStore } from '../../src/store/mongo';
import type { Store } from '../../src/store/types';
import { describeStoreContract, type StoreHarness } from './contract';

/**
 * The store contract against MongoDB: a replica set at MONGODB_URI, or one started here from the mongod binary at
 * MONGOMS_SYSTEM_BINARY (mongodb-memory-server-core). Without either the suite says, by name, that it was skipped.
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
 * store or handle is its own MongoClient, so `Promise.all` over handles is a real race.
 */
function mongoHarness(): StoreHarness {
  const dbName = `po_contract_${Date.now().toString(36)}_${process.pid}`;
  let replSet: MemoryReplSet | undefined;
  let target: string | undefined;
  let admin: MongoClient | undefined;
  const opened: Store[] = [];

  const empty = async () => {
    for (const c of await admin!.db(dbName).collections()) await c.deleteMany({});
  };

  return {
    async setup() {
      if (uri) {
        target = uri;
      } else {
        const { MongoMemoryReplSet } = await loadMemoryServer();
        replSet = await MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' } });
        target = replSet.getUri();
      }
      admin = await new MongoClient(target).connect();
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

if (uri || systemBinary) {
  describeStoreContract(uri ? 'MongoDB (MONGODB_URI)' : 'MongoDB (mongodb-memory-server replica set)', mongoHarness());
} else {
  console.warn(SKIPPED);
  test(SKIPPED, () => {
    expect(uri ?? systemBinary).toBeUndefined();
  });
}
