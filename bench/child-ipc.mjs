// Shared by the bench's child processes: answers the orchestrator's IPC requests.
// Nothing here is part of the app; it only exists in the bench servers.

const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Memory as the orchestrator reports it: RSS as the OS sees it, before and after a full GC (children run with --expose-gc). */
async function memory() {
  const before = process.memoryUsage();
  let after = before;
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    await settle(200);
    globalThis.gc();
    await settle(200);
    after = process.memoryUsage();
  }
  return {
    gcExposed: typeof globalThis.gc === 'function',
    rssBeforeGcMb: mb(before.rss),
    rssMb: mb(after.rss),
    heapUsedMb: mb(after.heapUsed),
    heapTotalMb: mb(after.heapTotal),
    externalMb: mb(after.external),
    arrayBuffersMb: mb(after.arrayBuffers),
  };
}

/**
 * Serves `{ id, type }` requests from the parent: `memory`, `cpu` (ms of CPU, all threads, since start), `exit`,
 * plus any extra handlers.
 * `onExit` runs before the process exits (close servers and stores so --cpu-prof can write its profile).
 */
export function serveIpc(handlers = {}, onExit = async () => {}) {
  if (!process.send) throw new Error('run this file from bench/card-action.mjs (it needs an IPC channel)');
  process.on('message', async (msg) => {
    const reply = (payload) => process.send({ id: msg.id, ...payload });
    try {
      if (msg.type === 'memory') return reply({ ok: true, value: await memory() });
      if (msg.type === 'cpu') {
        const u = process.cpuUsage();
        return reply({ ok: true, value: (u.user + u.system) / 1000 });
      }
      if (msg.type === 'exit') {
        await onExit();
        reply({ ok: true });
        // Let the reply flush, then leave normally so --cpu-prof profiles are written.
        setTimeout(() => process.exit(0), 50);
        return;
      }
      const handler = handlers[msg.type];
      if (!handler) return reply({ ok: false, error: `unknown request ${msg.type}` });
      reply({ ok: true, value: await handler(msg) });
    } catch (err) {
      reply({ ok: false, error: String(err?.stack ?? err) });
    }
  });
  // The parent going away (Ctrl-C, crash) must not leave servers behind.
  process.on('disconnect', () => process.exit(0));
}
