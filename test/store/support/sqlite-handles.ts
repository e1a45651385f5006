import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import type { Store } from '../../../src/store/types';

const ROOT = resolve(__dirname, '../../..');
const ENTRY = join(ROOT, 'src/store/sqlite/index.ts');
const WORKER = join(__dirname, 'sqlite-worker.js');
/** How long a barrier waits for the other callers before it gives up (and the call fails). */
const BARRIER_TIMEOUT_MS = 5_000;

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; stack?: string } };
type Barrier = { sab: SharedArrayBuffer; parties: number; timeoutMs: number };

/** The store's module graph (relative imports from the SQLite adapter), transpiled once for every worker. */
function compileStoreModules(entry: string): Record<string, string> {
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    inlineSourceMap: true,
  };
  const out: Record<string, string> = {};
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (out[file] !== undefined) continue;
    const source = readFileSync(file, 'utf8');
    out[file] = ts.transpileModule(source, { compilerOptions, fileName: file }).outputText;
    for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = resolve(dirname(file), fileName);
      const found = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
      if (found) todo.push(found);
    }
  }
  return out;
}

class StoreWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  readonly ready: Promise<void>;

  constructor(modules: Record<string, string>, entry: string) {
    this.worker = new Worker(WORKER, { workerData: { modules, entry } });
    this.ready = new Promise((resolveReady, rejectReady) => {
      this.worker.on('message', (msg: Reply | { ready: true }) => {
        if ('ready' in msg) return resolveReady();
        const call = this.pending.get(msg.id);
        if (!call) return;
        this.pending.delete(msg.id);
        if (msg.ok) call.resolve(msg.value);
        else
          call.reject(
            Object.assign(new Error(msg.error.message), { name: msg.error.name, code: msg.error.code, workerStack: msg.error.stack }),
          );
      });
      const fail = (err: Error) => {
        this.failure = err;
        rejectReady(err);
        for (const call of this.pending.values()) call.reject(err);
        this.pending.clear();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`SQLite worker exited (code ${code})`)));
    });
    this.ready.catch(() => undefined); // reported to whoever calls next
  }

  /** Posts synchronously, so a caller that arms a barrier knows the request is on its way when this returns. */
  call(method: string, args: unknown[], barrier?: Barrier): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolveCall, rejectCall) => {
      this.pending.set(id, { resolve: resolveCall, reject: rejectCall });
      this.worker.postMessage({ id, method, args, barrier });
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Store handles that each live on a worker thread with their own better-sqlite3 connection, so calls through
 * different handles really run at the same time (better-sqlite3 is synchronous: within one thread they could not).
 * Workers are started once and reused: each `open` gives them a new database file.
 */
export class SqliteWorkerPool {
  private modules: Record<string, string> | undefined;
  private readonly workers: StoreWorker[] = [];
  private readonly inUse = new Set<StoreWorker>();
  private armed: { barrier: Barrier; remaining: number; used: Set<StoreWorker> } | undefined;

  /** `entry`: the adapter module the workers load (another copy of it, to check that the suite catches a bug). */
  constructor(private readonly entry: string = ENTRY) {}

  /** `n` handles on one file, each on its own worker. */
  async open(file: string, n: number): Promise<Store[]> {
    this.modules ??= compileStoreModules(this.entry);
    const free = this.workers.filter((w) => !this.inUse.has(w));
    while (free.length < n) {
      const w = new StoreWorker(this.modules, this.entry);
      this.workers.push(w);
      free.push(w);
    }
    const chosen = free.slice(0, n);
    await Promise.all(chosen.map((w) => w.ready));
    // One after the other: the first runs the migrations, the others find them done.
    for (const w of chosen) {
      await w.call('$open', [file]);
      this.inUse.add(w);
    }
    return chosen.map((w) => this.handle(w));
  }

  /**
   * Runs each call on its own handle, all starting at once: every worker waits at a shared barrier
   * (SharedArrayBuffer + Atomics) until all requests have arrived. Each call must make exactly one store call,
   * synchronously, on a handle no other call in the batch uses.
   */
  async together<T>(calls: Array<() => Promise<T>>): Promise<T[]> {
    if (this.armed) throw new Error('together() is already running');
    const barrier: Barrier = { sab: new SharedArrayBuffer(4), parties: calls.length, timeoutMs: BARRIER_TIMEOUT_MS };
    this.armed = { barrier, remaining: calls.length, used: new Set() };
    let promises: Promise<T>[];
    try {
      promises = calls.map((c) => c());
      if (this.armed.remaining !== 0) {
        throw new Error(`together(): ${this.armed.remaining} of ${calls.length} calls made no synchronous call on a worker handle`);
      }
    } finally {
      this.armed = undefined;
    }
    return Promise.all(promises);
  }

  /** Closes every open handle's store; the workers stay for the next test. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.inUse].map((w) => w.call('$close', [])));
    this.inUse.clear();
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
    this.inUse.clear();
  }

  private call(w: StoreWorker, method: string, args: unknown[]): Promise<unknown> {
    let barrier: Barrier | undefined;
    if (this.armed && this.armed.remaining > 0) {
      if (this.armed.used.has(w)) {
        this.armed.remaining = -1; // makes together() fail instead of waiting for a barrier that cannot fill
        return Promise.reject(new Error('together(): two calls on the same handle would deadlock at the barrier'));
      }
      this.armed.used.add(w);
      this.armed.remaining--;
      barrier = this.armed.barrier;
    }
    return w.call(method, args, barrier);
  }

  private handle(w: StoreWorker): Store {
    const m = <F extends (...args: never[]) => Promise<unknown>>(method: string): F =>
      ((...args: unknown[]) => this.call(w, method, args)) as unknown as F;
    return {
      kind: 'sqlite',
      ping: m('ping'),
      close: async () => {
        if (!this.inUse.has(w)) return;
        this.inUse.delete(w);
        await w.call('$close', []);
      },
      partners: {
        upsert: m('partners.upsert'),
        get: m('partners.get'),
      },
      channels: {
        set: m('channels.set'),
        get: m('channels.get'),
      },
      conversations: {
        upsert: m('conversations.upsert'),
        get: m('conversations.get'),
        findPersonal: m('conversations.findPersonal'),
        findPersonalByEmail: m('conversations.findPersonalByEmail'),
        deactivate: m('conversations.deactivate'),
      },
      fulfilments: {
        get: m('fulfilments.get'),
        forOffers: m('fulfilments.forOffers'),
        update: m('fulfilments.update'),
        listDue: m('fulfilments.listDue'),
        listByPartner: m('fulfilments.listByPartner'),
        placedValue: m('fulfilments.placedValue'),
      },
      offers: {
        create: m('offers.create'),
        get: m('offers.get'),
        update: m('offers.update'),
        decide: m('offers.decide'),
        listByPartner: m('offers.listByPartner'),
        customersOf: m('offers.customersOf'),
        listAwaitingDelivery: m('offers.listAwaitingDelivery'),
        listPendingFor: m('offers.listPendingFor'),
        listExpired: m('offers.listExpired'),
        setCard: m('offers.setCard'),
        addCopy: m('offers.addCopy'),
      },
      relationships: {
        create: m('relationships.create'),
        get: m('relationships.get'),
        update: m('relationships.update'),
        decide: m('relationships.decide'),
        activeFor: m('relationships.activeFor'),
        forOffer: m('relationships.forOffer'),
        listByPartner: m('relationships.listByPartner'),
        listAwaitingDelivery: m('relationships.listAwaitingDelivery'),
        listPendingFor: m('relationships.listPendingFor'),
        listDue: m('relationships.listDue'),
        setCard: m('relationships.setCard'),
        addCopy: m('relationships.addCopy'),
      },
      listings: {
        get: m('listings.get'),
        getById: m('listings.getById'),
        save: m('listings.save'),
        search: m('listings.search'),
      },
      leads: {
        create: m('leads.create'),
        get: m('leads.get'),
        setTrial: m('leads.setTrial'),
        setStage: m('leads.setStage'),
        listByPartner: m('leads.listByPartner'),
      },
      pipeline: { page: m('pipeline.page'), summary: m('pipeline.summary'), monthlyValue: m('pipeline.monthlyValue') },
      responses: { forSubject: m('responses.forSubject'), chain: m('responses.chain') },
      outbox: {
        claim: m('outbox.claim'),
        renew: m('outbox.renew'),
        markSent: m('outbox.markSent'),
        markSentMany: m('outbox.markSentMany'),
        retryLater: m('outbox.retryLater'),
        markFailed: m('outbox.markFailed'),
        defer: m('outbox.defer'),
        failedFor: m('outbox.failedFor'),
        retryFailed: m('outbox.retryFailed'),
        stats: m('outbox.stats'),
        forSubject: m('outbox.forSubject'),
        pruneSent: m('outbox.pruneSent'),
      },
    };
  }
}
