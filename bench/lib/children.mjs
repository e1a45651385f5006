// The orchestrator's side of the bench's IPC (the children's side is ../child-ipc.mjs): starts a bench server as a
// child process, waits for its `ready`, asks it things ({ id, type } → { id, ok, value | error }) and stops it.
import { fork } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(bench, '..');
const children = [];

/**
 * `file` is relative to bench/. Children run with --expose-gc (for the memory readings) and without deprecation
 * warnings; `onMessage` gets the messages that answer no request (a sink's reports, say).
 */
export function startChild(file, name, { env = {}, stdout = 'inherit', execArgv = [], onMessage, readyTimeoutMs = 300_000 } = {}) {
  const child = fork(join(bench, file), [], {
    cwd: root,
    execArgv: ['--expose-gc', '--no-deprecation', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  children.push(child);
  let nextId = 0;
  const waiting = new Map();
  let onReady;
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before it was ready`)));
    setTimeout(() => reject(new Error(`${name} was not ready after ${readyTimeoutMs / 1000} s`)), readyTimeoutMs).unref();
  });
  child.on('message', (msg) => {
    if (msg.type === 'ready') return onReady(msg);
    if (msg.id === undefined) return onMessage?.(msg);
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(new Error(`${name}: ${msg.error}`));
  });
  const ask = (type, payload = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      child.send({ ...payload, id, type });
    });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await ask('exit').catch(() => undefined);
    let timer;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill();
  };
  return { child, ready, ask, stop, name };
}

/** Kills every child still running: after a failure, and when the orchestrator exits (Ctrl-C included). */
export function killChildren() {
  for (const c of children) if (c.exitCode === null) c.kill();
}

process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
