import type { NewOutboxEntry, OutboxEntry } from '../../../src/notifications/types';
import { canonical } from '../../../src/store/chain';
import type { ContractContext } from './context';

export const RACE_TIMEOUT_MS = 60_000;

/** The part of an outbox entry the caller chose; ids, times, state and lease are the store's. */
export const requested = (e: OutboxEntry): NewOutboxEntry => ({
  target: e.target,
  action: e.action,
  onSent: e.onSent,
  subject: e.subject,
  partnerTenantId: e.partnerTenantId,
});
/** Comparison key for records: keys sorted, undefined dropped, so neither key order nor absent fields matter. */
export const key = (v: unknown): string => canonical(v);
export const sortedKeys = (vs: unknown[]): string[] => vs.map(key).sort();
export const textOf = (e: OutboxEntry | NewOutboxEntry): string => key(e.action);

/** The outbox entries as the store keeps them right after a write at `at`. */
export const fresh = (entries: NewOutboxEntry[], at: string) =>
  entries.map((e) => ({ ...e, state: 'pending', attempts: 0, createdAt: at, nextAttemptAt: at }));

/** Reads of the outbox of the running test's one-handle store (`ctx.store()`). */
export function outboxChecks(ctx: ContractContext) {
  const outboxOf = async (subjectId: string) =>
    (await ctx.store().outbox.forSubject(subjectId)).map(({ id: _id, lease: _l, ...rest }) => rest);
  const expectOutbox = async (subjectId: string, expected: object[]) => {
    const actual = await outboxOf(subjectId);
    expect(sortedKeys(actual)).toEqual(sortedKeys(expected));
  };
  return { outboxOf, expectOutbox };
}
