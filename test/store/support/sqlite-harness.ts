import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/types';
import type { StoreHarness } from '../contract';
import { SqliteWorkerPool } from './sqlite-handles';

/**
 * Each `open` is a new file in one temporary folder; `openHandles` puts worker threads on a new file.
 * `open` and `pool` can be another copy of the adapter, to check that the suite catches a bug in it.
 */
export function sqliteHarness(
  open: typeof openSqliteStore = openSqliteStore,
  pool = new SqliteWorkerPool(),
): StoreHarness & { pool: SqliteWorkerPool; file(): string } {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-sqlite-'));
  const opened: Store[] = [];
  let files = 0;
  const file = () => join(dir, `store-${++files}.sqlite`);
  return {
    pool,
    file,
    async open(now) {
      const store = open(file(), now);
      opened.push(store);
      return store;
    },
    async openHandles(n) {
      return pool.open(file(), n);
    },
    together: (calls) => pool.together(calls),
    async cleanup() {
      for (const store of opened.splice(0)) await store.close();
      await pool.closeAll();
    },
    async dispose() {
      await pool.terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
