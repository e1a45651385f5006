/**
 * Entries that must not go before an earlier one that was rescheduled: they are given back with the very same due
 * time, so the store hands them out again behind it, in order. A rate-limit deferral holds the whole conversation
 * (nothing there may go sooner anyway); a retry holds only the messages about the same subject, so one offer's
 * failing card update does not stall every other message to that chat. Times are the store's (ISO strings).
 */
export interface Holds {
  /** The due time an entry to this conversation about this subject is held until, if a hold is still ahead of `now`. */
  until(conversationKey: string, subjectId: string | undefined, now: string): string | undefined;
  /** After a retry: the subject's messages there wait until `dueAt` (with no subject, the whole conversation). */
  holdSubject(conversationKey: string, subjectId: string | undefined, dueAt: string): void;
  /** After a rate-limit deferral: the whole conversation waits until `dueAt`. */
  holdConversation(conversationKey: string, dueAt: string): void;
  /** Forgets the holds that ended by `now`. */
  prune(now: string): void;
}

export function createHolds(): Holds {
  const holds = new Map<string, string>();
  const subjectKey = (conversationKey: string, subjectId?: string) =>
    subjectId ? `${conversationKey}\u0000${subjectId}` : conversationKey;
  return {
    until(conversationKey, subjectId, now) {
      return [holds.get(conversationKey), holds.get(subjectKey(conversationKey, subjectId))].find((h) => h !== undefined && h > now);
    },
    holdSubject(conversationKey, subjectId, dueAt) {
      holds.set(subjectKey(conversationKey, subjectId), dueAt);
    },
    holdConversation(conversationKey, dueAt) {
      holds.set(conversationKey, dueAt);
    },
    prune(now) {
      for (const [key, hold] of holds) if (hold <= now) holds.delete(key);
    },
  };
}
