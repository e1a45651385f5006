import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Store } from '../store/types';
import { PermanentDeliveryError } from './messages';
import { ConversationGoneError, type Sender } from './sender';
import type { OutboxEntry } from './types';

export interface DelivererOptions {
  store: Store;
  send: Sender;
  clock: Clock;
  log: Logger;
  /** How often to look for due entries when nothing kicked us. */
  pollMs?: number;
  /** How long a claimed entry stays ours; a process that dies mid-send gives it up when this runs out. */
  leaseMs?: number;
  batch?: number;
  maxAttempts?: number;
}

export interface Deliverer {
  start(): void;
  /** Look for due entries now (after a write that queued something). */
  kick(): void;
  /** Delivers everything due and returns how many entries it handled; for tests and shutdown. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

const status = (err: unknown): number | undefined => {
  const e = err as { statusCode?: number; status?: number; response?: { status?: number } };
  return e?.statusCode ?? e?.response?.status ?? e?.status;
};

const retryAfterMs = (err: unknown): number | undefined => {
  const headers = (err as { response?: { headers?: { get?(n: string): string | undefined } & Record<string, unknown> } })?.response?.headers;
  const raw = headers?.get?.('retry-after') ?? (headers?.['retry-after'] as string | undefined);
  const seconds = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
};

/** Exponential backoff with full jitter, capped at five minutes. */
export const backoffMs = (attempt: number): number => Math.min(300_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * Sends outbox entries: at least once, in the order they became due, leased so several processes can share one
 * store. Kept simple on purpose: Teams' per-conversation rate limits are enforced by a later hardening step.
 */
export function createDeliverer({ store, send, clock, log, pollMs = 1000, leaseMs = 60_000, batch = 25, maxAttempts = 12 }: DelivererOptions): Deliverer {
  const owner = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = true;

  async function deliver(entry: OutboxEntry): Promise<void> {
    const meta = { entryId: entry.id, subject: entry.subject?.id, action: entry.action.kind, attempt: entry.attempts + 1 };
    try {
      const result = await send(entry);
      if (entry.onSent?.kind === 'offerCard' && result.activityId) {
        await store.offers.setCard(entry.onSent.offerId, { conversationId: result.conversationId, activityId: result.activityId });
      } else if (entry.onSent?.kind === 'relationshipCard' && result.activityId) {
        await store.relationships.setCard(entry.onSent.relationshipId, { conversationId: result.conversationId, activityId: result.activityId });
      }
      await store.outbox.markSent(entry.id, owner);
      log.info(meta, 'outbox entry delivered');
    } catch (err) {
      const code = status(err);
      const reason = `${code ?? 'error'}: ${(err as Error).message}`.slice(0, 300);
      const gone = err instanceof ConversationGoneError || ((code === 403 || code === 404) && entry.action.kind === 'send');
      if (gone) {
        // The sender names the conversation it wrote to, which for a user target is their resolved 1:1 chat.
        const conversationId =
          (err as { conversationId?: string }).conversationId ?? (entry.target.kind === 'conversation' ? entry.target.conversationId : undefined);
        if (conversationId && !(err instanceof ConversationGoneError)) await store.conversations.deactivate(conversationId, reason, clock().toISOString());
        await store.outbox.markFailed(entry.id, owner, reason);
        log.warn({ ...meta, reason }, 'outbox entry failed: the bot can no longer post there');
        return;
      }
      const permanent =
        err instanceof PermanentDeliveryError || (code !== undefined && code >= 400 && code < 500 && code !== 408 && code !== 412 && code !== 429);
      if (permanent || entry.attempts + 1 >= maxAttempts) {
        await store.outbox.markFailed(entry.id, owner, reason);
        log.warn({ ...meta, reason }, 'outbox entry failed');
        return;
      }
      const wait = (code === 429 ? retryAfterMs(err) : undefined) ?? backoffMs(entry.attempts);
      await store.outbox.retryLater(entry.id, owner, new Date(clock().getTime() + wait).toISOString(), reason);
      log.info({ ...meta, reason, retryInMs: Math.round(wait) }, 'outbox entry will be retried');
    }
  }

  async function runOnce(): Promise<number> {
    let handled = 0;
    for (;;) {
      const now = clock();
      const entries = await store.outbox.claim(owner, now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), batch);
      for (const entry of entries) await deliver(entry);
      handled += entries.length;
      if (entries.length < batch) return handled;
    }
  }

  function run(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await runOnce();
        } while (again);
      } catch (err) {
        log.error({ err }, 'outbox delivery pass failed');
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => void run().finally(schedule), pollMs);
    timer.unref();
  }

  return {
    start() {
      stopped = false;
      schedule();
    },
    kick() {
      if (!stopped) void run();
    },
    drain: () => run(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
