import { DAY_MS, type Clock } from '../clock';
import type { OutboxStore } from './store';

/**
 * Entries deleted per store call: one short transaction, never a long stall of the event loop. In SQLite each deleted
 * entry costs random pages of the id and subject indexes: about 12 ms of CPU per batch at a million entries
 * (bench:scale).
 */
export const RETENTION_BATCH = 500;
/**
 * Batches per sweep at most. A backlog (the first sweep after an upgrade, a bot that was down) is worked off over
 * several sweeps; in steady state one partial batch per sweep removes what was sent a minute's worth before.
 */
export const RETENTION_BATCHES_PER_SWEEP = 20;

export interface RetentionDeps {
  outbox: Pick<OutboxStore, 'pruneSent'>;
  clock: Clock;
  /** OUTBOX_RETENTION_DAYS: delivered entries sent longer ago than this are deleted. */
  days: number;
  batch?: number;
  maxBatches?: number;
}

/**
 * Outbox retention: delivered (sent) entries are kept `days` after they were sent, then deleted by the sweep, oldest
 * first, in bounded batches with a turn of the event loop between them, so requests are served while a backlog goes.
 * Nothing reads a sent entry once it is sent (status and the failed list read failed ones, readiness pending and
 * failed ones); pending and failed entries are never deleted here.
 */
export function createOutboxRetention({
  outbox,
  clock,
  days,
  batch = RETENTION_BATCH,
  maxBatches = RETENTION_BATCHES_PER_SWEEP,
}: RetentionDeps) {
  return async function prune(): Promise<{ deleted: number; batches: number }> {
    const before = new Date(clock().getTime() - days * DAY_MS).toISOString();
    let deleted = 0;
    let batches = 0;
    while (batches < maxBatches) {
      const n = await outbox.pruneSent(before, batch);
      batches++;
      deleted += n;
      if (n < batch) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { deleted, batches };
  };
}
