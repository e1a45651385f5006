'use strict';
/**
 * One SQLite store handle on its own thread with its own better-sqlite3 connection, driven by `sqlite-handles.ts`.
 * Workers get no ts-jest: the main thread transpiles the store's TypeScript (`typescript.transpileModule`, syntax only;
 * ts-jest and `tsc --noEmit` check the types) and hands the JavaScript over in `workerData.modules`.
 *
 * Messages in:  { id, method: '$open' | '$close' | 'ping' | 'offers.decide' | ..., args: [...], barrier?: { sab, parties, timeoutMs } }
 * Messages out: { id, ok: true, value } | { id, ok: false, error: { name, message, code, stack } }
 */
const { parentPort, workerData } = require('node:worker_threads');

// The store's TypeScript, compiled once by the main thread (`sqlite-handles.ts`): loading the compiler in every
// worker would cost about a second each.
const modules = workerData.modules;
require.extensions['.ts'] = (module, filename) => {
  const code = modules[filename];
  if (code === undefined) throw new Error(`sqlite-worker: ${filename} was not compiled by the main thread`);
  module._compile(code, filename);
};

const { openSqliteStore } = require(workerData.entry);

/** Waits until `parties` callers (one per worker) have arrived, so their writes start at the same instant. */
function arrive({ sab, parties, timeoutMs }) {
  const cell = new Int32Array(sab);
  Atomics.add(cell, 0, 1);
  Atomics.notify(cell, 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = Atomics.load(cell, 0);
    if (seen >= parties) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`barrier: only ${seen} of ${parties} callers arrived within ${timeoutMs} ms`);
    Atomics.wait(cell, 0, seen, left);
  }
}

let store = null;

async function run(method, args) {
  if (method === '$open') {
    if (store) throw new Error('this worker already has an open store');
    store = openSqliteStore(args[0]);
    return null;
  }
  if (method === '$close') {
    const s = store;
    store = null;
    if (s) await s.close();
    return null;
  }
  if (!store) throw new Error(`${method}: no open store in this worker`);
  const [group, name] = method.split('.');
  const target = name === undefined ? store : store[group];
  const fn = target && target[name === undefined ? group : name];
  if (typeof fn !== 'function') throw new Error(`unknown store method ${method}`);
  return fn(...args);
}

parentPort.on('message', async ({ id, method, args, barrier }) => {
  try {
    if (barrier) arrive(barrier);
    const value = await run(method, args);
    parentPort.postMessage({ id, ok: true, value });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    parentPort.postMessage({ id, ok: false, error: { name: e.name, message: e.message, code: e.code, stack: e.stack } });
  }
});
parentPort.postMessage({ ready: true });
