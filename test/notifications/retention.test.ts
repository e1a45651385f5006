import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays } from '../../src/clock';
import { createOutboxRetention } from '../../src/notifications/retention';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { T0, notifyIssuer, offer, plusDays } from '../store/support/fixtures';
import { installationUpdate } from '../support/activities';
import { alex, megan } from '../support/people';
import { startTestBot, type TestBot } from '../support/test-bot';

describe('outbox retention', () => {
  const clock = { now: new Date(T0) };
  let store: Store;
  beforeEach(() => {
    clock.now = new Date(T0);
    store = openSqliteStore(':memory:', () => clock.now);
  });
  afterEach(() => store.close());

  /** `n` entries about one new offer, created and then marked sent or failed at the clock's time, or left pending. */
  async function entries(n: number, settle: 'sent' | 'failed' | 'pending' = 'sent') {
    const o = offer({ createdAt: clock.now.toISOString() });
    await store.offers.create(
      o,
      Array.from({ length: n }, (_, i) => notifyIssuer(o, `notice ${i}`)),
    );
    if (settle === 'pending') return o.id;
    const claimed = await store.outbox.claim('w', clock.now.toISOString(), plusDays(clock.now.toISOString(), 1), -1);
    for (const e of claimed) {
      if (settle === 'sent') await store.outbox.markSent(e.id, 'w');
      else await store.outbox.markFailed(e.id, 'w', 'HTTP 403');
    }
    return o.id;
  }
  const count = async (subjectId: string) => (await store.outbox.forSubject(subjectId)).length;

  it('deletes entries sent more than the retention ago, in batches up to the per-sweep bound, and keeps newer, pending and failed ones', async () => {
    const old = await entries(25);
    const failed = await entries(2, 'failed');
    clock.now = new Date(plusDays(T0, 6));
    const recent = await entries(3);
    const pending = await entries(2, 'pending');
    clock.now = new Date(plusDays(T0, 8));
    const prune = createOutboxRetention({ outbox: store.outbox, clock: () => clock.now, days: 7, batch: 10, maxBatches: 2 });

    // 25 due: two batches of 10 this sweep, the last 5 the next.
    expect(await prune()).toEqual({ deleted: 20, batches: 2 });
    expect(await count(old)).toBe(5);
    expect(await prune()).toEqual({ deleted: 5, batches: 1 });
    expect(await count(old)).toBe(0);
    expect(await prune()).toEqual({ deleted: 0, batches: 1 });
    expect([await count(recent), await count(failed), await count(pending)]).toEqual([3, 2, 2]);

    // A day later the entries sent at day 6 are past a 7-day retention too; failed and pending entries never go.
    clock.now = new Date(plusDays(T0, 14));
    expect(await prune()).toEqual({ deleted: 3, batches: 1 });
    expect([await count(recent), await count(failed), await count(pending)]).toEqual([0, 2, 2]);
  });

  it('counts the retention from when an entry was sent, not when it was written', async () => {
    const o = offer({ createdAt: T0 });
    await store.offers.create(o, [notifyIssuer(o, 'late')]);
    // Delivered five days after it was written (a customer who installed the app late, say).
    clock.now = new Date(plusDays(T0, 5));
    const [e] = await store.outbox.claim('w', clock.now.toISOString(), plusDays(clock.now.toISOString(), 1), 10);
    await store.outbox.markSent(e!.id, 'w');
    clock.now = new Date(plusDays(T0, 9));
    const prune = createOutboxRetention({ outbox: store.outbox, clock: () => clock.now, days: 7 });
    expect(await prune()).toEqual({ deleted: 0, batches: 1 });
    clock.now = new Date(plusDays(T0, 12.5));
    expect(await prune()).toEqual({ deleted: 1, batches: 1 });
  });
});

describe('retention on a database file', () => {
  const clock = { now: new Date(T0) };
  const dir = mkdtempSync(join(tmpdir(), 'retention-'));
  const file = join(dir, 'bot.sqlite');
  let store: Store;
  beforeAll(() => {
    store = openSqliteStore(file, () => clock.now);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Frames in the WAL since it last restarted, read from a second connection (the checkpoint it asks for finds nothing left to copy). */
  const walFrames = () => {
    const other = new Database(file);
    try {
      const [result] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      return result!.log;
    } finally {
      other.close();
    }
  };

  it('has each batch checkpointed before the next, so a sweep never fills the WAL to the checkpoint that runs on the event loop', async () => {
    const o = offer({ createdAt: clock.now.toISOString() });
    await store.offers.create(
      o,
      Array.from({ length: 1_800 }, (_, i) => notifyIssuer(o, `notice ${i}`)),
    );
    const claimed = await store.outbox.claim('w', clock.now.toISOString(), plusDays(clock.now.toISOString(), 1), -1);
    await store.outbox.markSentMany(
      'w',
      claimed.map((e) => ({ id: e.id, attempts: 1 })),
    );
    clock.now = new Date(plusDays(T0, 8));
    const prune = (maxBatches: number) =>
      createOutboxRetention({ outbox: store.outbox, clock: () => clock.now, days: 7, batch: 200, maxBatches })();

    // Setting up wrote its own frames: copied now, so the first batch starts the WAL afresh and what it holds is one batch.
    walFrames();
    expect(await prune(1)).toEqual({ deleted: 200, batches: 1 });
    const oneBatch = walFrames();
    expect(oneBatch).toBeGreaterThan(0);
    // Eight more in one sweep: still one batch's frames, not eight (each was copied before the next one started).
    expect(await prune(8)).toEqual({ deleted: 1_600, batches: 8 });
    expect(walFrames()).toBeLessThanOrEqual(oneBatch * 1.5);
    expect(await store.outbox.forSubject(o.id)).toEqual([]);
  });
});

describe('retention in the sweep', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot();
    bot.meet(alex, megan);
    for (const u of [alex, megan]) await bot.post(installationUpdate('add', u, bot.sink.url));
  });
  afterAll(() => bot.close());

  it('deletes the notifications it delivered once they are past the retention, and a retention failure never fails the sweep', async () => {
    await bot.say('trial admin@contoso.com teams-essentials', alex);
    await bot.drain();
    const offerId = bot.lastIdSentTo('T', megan);
    const delivered = await bot.store.outbox.forSubject(offerId);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((e) => e.state === 'sent')).toBe(true);

    bot.clock.now = addDays(bot.clock.now, 6);
    await bot.app.sweep();
    expect(await bot.store.outbox.forSubject(offerId)).toHaveLength(delivered.length);
    bot.clock.now = addDays(bot.clock.now, 2);
    await bot.app.sweep();
    expect(await bot.store.outbox.forSubject(offerId)).toEqual([]);

    const pruneSent = jest.spyOn(bot.store.outbox, 'pruneSent').mockRejectedValue(new Error('disk I/O error'));
    try {
      await expect(bot.app.sweep()).resolves.toBe(0);
      expect(pruneSent).toHaveBeenCalled();
    } finally {
      pruneSent.mockRestore();
    }
  });
});
