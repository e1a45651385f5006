/**
 * The requests this process is answering right now. Background work asks for a quiet moment before each step that
 * costs CPU: the deliverer renders, posts and records a notification in about a millisecond of event-loop time, and a
 * few dozen of those queued ahead of a Teams invoke made it wait tens of milliseconds (bench/RESULTS.md, card-action
 * p99 at 100 requests a second). Waiting is bounded, so background work is only ever delayed, never starved.
 */
export interface Foreground {
  /** A request has arrived; the returned function marks it answered (calling it again does nothing). */
  enter(): () => void;
  /** Resolves once no request is being answered, or after `maxWaitMs`, whichever is first. */
  quiet(maxWaitMs: number): Promise<void>;
  /** Requests being answered now. */
  busy(): number;
}

export function createForeground(): Foreground {
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  return {
    enter() {
      inFlight++;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        if (--inFlight > 0) return;
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake();
      };
    },
    quiet(maxWaitMs) {
      if (inFlight === 0 || maxWaitMs <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, maxWaitMs);
        function done() {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== done);
          resolve();
        }
        waiters.push(done);
      });
    },
    busy: () => inFlight,
  };
}
