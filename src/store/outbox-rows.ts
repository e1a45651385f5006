import type { NewOutboxEntry, OutboxEntry } from '../notifications/types';

/** A new outbox entry as both adapters store it: due now, never tried. */
export function outboxRow(e: NewOutboxEntry, id: string, at: string): OutboxEntry {
  return { ...e, id, state: 'pending', attempts: 0, createdAt: at, nextAttemptAt: at };
}
