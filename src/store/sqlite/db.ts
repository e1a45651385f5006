import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BACKFILLS, MIGRATIONS } from './migrations';

/**
 * The one connection every capability prepares its statements on, so a transaction on it covers any of them.
 * Parameters are positional `?` (each bound once, in order) or named `@name`: better-sqlite3 refuses numbered ones
 * (`?1` fails with "Too many parameter values were provided"), so a value used twice is named.
 */
export type Db = Database.Database;

export type Row = { doc: string };

export const parse = <T>(row: Row | undefined): T | null => (row ? (JSON.parse(row.doc) as T) : null);
export const parseAll = <T>(rows: Row[]): T[] => rows.map((r) => JSON.parse(r.doc) as T);

export interface OpenedDb {
  db: Db;
  /** Stops the checkpointer and closes the connection. */
  close: () => Promise<void>;
  /**
   * Checkpoints the WAL now, in the checkpointer's thread, and resolves when done (at once for an in-memory file or a
   * checkpointer that is not running). For bulk writes: see `startCheckpointer`.
   */
  checkpoint: () => Promise<void>;
}

/** Opens the file (WAL mode, schema brought up to date) with its checkpointer; `close` stops both. */
export function openDb(file: string): OpenedDb {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // better-sqlite3 builds with a 16 MB page cache per connection; 4 MB holds the hot indexes of this schema.
  db.pragma('cache_size = -4000');
  migrate(db);
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(db, file);
  return {
    db,
    close: async () => {
      await checkpointer?.terminate();
      db.close();
    },
    checkpoint: checkpointer?.checkpoint ?? (() => Promise.resolve()),
  };
}

/** How long a checkpoint asked for is waited for at most: a stuck worker delays a bulk write, never stops it. */
const CHECKPOINT_WAIT_MS = 5_000;

/**
 * Moves WAL checkpoints off the event loop: a worker thread with its own connection checkpoints every second
 * (PASSIVE: it never blocks writers), so commits on the request path only append to the WAL. The connection's own
 * auto-checkpoint stays as a backstop at a higher threshold in case the worker falls behind; when it fires, it
 * checkpoints on the event loop (bench:scale measured 150-280 ms stalls). Bulk writes, which can outrun the
 * once-a-second pass (a retention batch rewrites hundreds of random index pages), ask for a checkpoint after each
 * step and wait for it, so the WAL never reaches the backstop.
 */
function startCheckpointer(db: Db, file: string): { checkpoint: () => Promise<void>; terminate: () => Promise<number> } {
  db.pragma('wal_autocheckpoint = 10000');
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const Database = require(workerData.driver);
     const db = new Database(workerData.file);
     db.pragma('busy_timeout = 1000');
     const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
     setInterval(checkpoint, 1000);
     parentPort.on('message', (id) => { checkpoint(); parentPort.postMessage(id); });`,
    { eval: true, workerData: { file, driver: require.resolve('better-sqlite3') } },
  );
  const waiting = new Map<number, () => void>();
  let next = 0;
  let running = true;
  const stopped = () => {
    running = false;
    for (const done of waiting.values()) done();
    waiting.clear();
  };
  worker.on('message', (id: number) => waiting.get(id)?.());
  // If the worker cannot run, the connection's auto-checkpoint still keeps the WAL bounded.
  worker.on('error', stopped);
  worker.on('exit', stopped);
  worker.unref();
  return {
    checkpoint: () =>
      running
        ? new Promise<void>((resolve) => {
            const id = next++;
            // Not unref'd: the worker is, and a caller awaiting this must keep the process alive until it is done.
            const timer = setTimeout(done, CHECKPOINT_WAIT_MS);
            function done() {
              clearTimeout(timer);
              waiting.delete(id);
              resolve();
            }
            waiting.set(id, done);
            worker.postMessage(id);
          })
        : Promise.resolve(),
    terminate: () => {
      stopped();
      return worker.terminate();
    },
  };
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`The database file is from a newer version of the bot (schema ${current}, this build knows ${MIGRATIONS.length}).`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      BACKFILLS[v + 1]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

export function isUniqueViolation(err: unknown, what: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' && (e.message ?? '').includes(what);
}
