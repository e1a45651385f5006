import { createForeground } from '../../src/edge/foreground';
import { createLogger } from '../../src/log';
import { createServer } from '../../src/server';
import type { Store } from '../../src/store/types';

describe('the foreground: requests being answered, which background work gives way to', () => {
  it('is quiet at once with no request, and as soon as the last one is answered', async () => {
    const fg = createForeground();
    await fg.quiet(10_000);
    const first = fg.enter();
    const second = fg.enter();
    let quiet = false;
    const waiting = fg.quiet(10_000).then(() => (quiet = true));
    first();
    first(); // answering twice (finish, then close) counts once
    await new Promise((r) => setTimeout(r, 20));
    expect(quiet).toBe(false);
    expect(fg.busy()).toBe(1);
    second();
    await waiting;
    expect(fg.busy()).toBe(0);
  });

  it('never waits longer than asked, however busy', async () => {
    const fg = createForeground();
    fg.enter();
    const started = performance.now();
    await fg.quiet(40);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(fg.busy()).toBe(1);
  });

  it('counts an HTTP request from its arrival until its answer is sent', async () => {
    const fg = createForeground();
    let release!: () => void;
    const pinged = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const store = {
      kind: 'sqlite',
      ping: async () => {
        arrived();
        await pinged;
      },
      outbox: { stats: async () => ({ pending: 0, failed: 0 }) },
    } as unknown as Store;
    const server = createServer({
      adapter: {} as never,
      bot: {} as never,
      store,
      log: createLogger('silent'),
      afterTurn: () => undefined,
      foreground: fg,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const answer = fetch(`http://127.0.0.1:${server.address().port}/readyz`);
      await reached;
      expect(fg.busy()).toBe(1);
      release();
      expect((await answer).status).toBe(200);
      await fg.quiet(1_000);
      expect(fg.busy()).toBe(0);
    } finally {
      server.close();
    }
  });
});
