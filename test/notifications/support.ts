import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import pino from 'pino';
import { systemClock, type Clock } from '../../src/clock';
import type { ConversationRecord } from '../../src/directory/types';
import type { Logger } from '../../src/log';
import { createDeliverer, type Deliverer, type DelivererOptions } from '../../src/notifications/deliverer';
import { createMessageRegistry } from '../../src/notifications/messages';
import { TEAMS_RATE_LIMITS } from '../../src/notifications/rate-limit';
import { createBotSender } from '../../src/notifications/sender';
import type { NewOutboxEntry, OutboxEntry, OutboxTarget } from '../../src/notifications/types';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/types';
import { isSend, peakRate, startConnectorSink, type ConnectorSink, type SinkRequest } from '../support/connector-sink';
import { trialOffer } from '../support/fixtures';

export function tempStore(clock: Clock = systemClock) {
  const dir = mkdtempSync(join(tmpdir(), 'notifications-'));
  const store = openSqliteStore(join(dir, 'x.sqlite'), clock);
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A team channel the bot may post in, whose connector (`serviceUrl`) is `serviceUrl`: a sink, in tests. */
export const channelConversation = (
  c: { id: string; tenantId: string },
  serviceUrl: string,
  updatedAt: string = new Date().toISOString(),
): ConversationRecord => ({
  id: c.id,
  tenantId: c.tenantId,
  kind: 'channel',
  reference: {
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: c.id, isGroup: true, conversationType: 'channel', tenantId: c.tenantId, name: '' },
    bot: { id: '28:bot', name: 'Partner Offers' },
  },
  active: true,
  updatedAt,
});

/**
 * Every Teams window (per conversation and per tenant) checked against the sends in `requests` (POST/PUT, taken or
 * not: Teams counts what reaches it): the windows some key went over, with that key's count. Empty when within.
 */
export function overTeamsLimits(requests: SinkRequest[], toleranceMs = 0) {
  const sends = requests.filter(isSend);
  return [
    ...TEAMS_RATE_LIMITS.conversation.map((w) => ({
      per: 'conversation',
      ...w,
      ...peakRate(sends, (r) => r.conversationId, w.windowMs, toleranceMs),
    })),
    ...TEAMS_RATE_LIMITS.tenant.map((w) => ({ per: 'tenant', ...w, ...peakRate(sends, (r) => r.tenantId, w.windowMs, toleranceMs) })),
  ].filter((s) => s.count > s.limit);
}

export const textEntry = (target: OutboxTarget, text: string): NewOutboxEntry => ({
  target,
  action: { kind: 'send', message: { kind: 'text', args: { text } } },
});

let offers = 0;
/** Queues entries (in this order) in one transaction, as a decision would; returns the subject they are filed under. */
export async function enqueue(store: Store, entries: NewOutboxEntry[]): Promise<string> {
  const id = `T-Q${String(++offers).padStart(5, '0')}`;
  await store.offers.create(
    trialOffer({ id, pendingKey: undefined }),
    entries.map((e) => ({ ...e, subject: { kind: 'offer', id } })),
  );
  return id;
}

/** A logger whose JSON lines the test can read. */
export function capturedLog(level = 'debug'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, stream), lines };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 20 ms; `what` names it in the timeout error (a function: worked out at the timeout). */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  what: string | (() => string | Promise<string>) = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? await what() : what}`);
    await sleep(20);
  }
}

export interface HttpHarness {
  store: Store;
  sink: ConnectorSink;
  log: Logger;
  lines: Record<string, unknown>[];
  deliverer: Deliverer;
  /** Queues one text entry per conversation named (repeats allowed), texts `${prefix}-0`, `${prefix}-1`, … */
  queue(conversationIds: string[], prefix?: string): Promise<string>;
  entries(subject: string): Promise<OutboxEntry[]>;
  /** Texts of sends the sink took, in arrival order. */
  delivered(): string[];
  /** Arrivals of one text (taken or not). */
  arrivalsOf(text: string): SinkRequest[];
  /** Another deliverer on the same store and sink, as a second bot process would run (stopped by close()). */
  another(o?: Partial<DelivererOptions>): Deliverer;
  close(): Promise<void>;
}

/**
 * The real Bot Connector sender over HTTP to a fault-injecting sink, on a SQLite store running on the real clock:
 * the rate limits are real time, so what the sink records is what Teams would have seen.
 */
export async function httpHarness(o: {
  conversations: { id: string; tenantId: string }[];
  deliverer?: Partial<DelivererOptions>;
}): Promise<HttpHarness> {
  const { store, close: closeStore } = tempStore();
  const sink = await startConnectorSink();
  const { log, lines } = capturedLog();
  const messages = createMessageRegistry();
  messages.register('text', async ({ text }) => ({ type: 'message', text }));
  const newDeliverer = (over: Partial<DelivererOptions> = {}) =>
    createDeliverer({
      store,
      send: createBotSender(new ConfigurationBotFrameworkAuthentication({}), '', store, messages),
      clock: systemClock,
      log,
      ...over,
    });
  const others: Deliverer[] = [];
  const now = new Date().toISOString();
  for (const c of o.conversations) await store.conversations.upsert(channelConversation(c, sink.url, now));
  const deliverer = newDeliverer(o.deliverer);
  return {
    store,
    sink,
    log,
    lines,
    deliverer,
    queue: (ids, prefix = 'n') =>
      enqueue(
        store,
        ids.map((id, i) => textEntry({ kind: 'conversation', conversationId: id }, `${prefix}-${i}`)),
      ),
    entries: (subject) => store.outbox.forSubject(subject),
    delivered: () => sink.requests.filter((r) => isSend(r) && r.accepted).map((r) => String(r.body.text)),
    arrivalsOf: (text) => sink.requests.filter((r) => isSend(r) && r.body.text === text),
    another(over) {
      const d = newDeliverer(over);
      others.push(d);
      return d;
    },
    async close() {
      await Promise.all([deliverer, ...others].map((d) => d.stop()));
      await sink.close();
      await closeStore();
    },
  };
}
