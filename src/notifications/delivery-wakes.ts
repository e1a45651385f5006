/**
 * When the deliverer looks for due entries without being kicked: every `pollMs`, and at every moment something this
 * process gave back falls due. The poll also reaches a run in progress: it may be waiting on slow sends while others'
 * leases run out.
 */
export interface Wakes {
  /** Starts the poll; from now on `at` arms timers. */
  start(): void;
  started(): boolean;
  /** Wake up at `time` (monotonic ms): an entry given back falls due then. Ignored when stopped. */
  at(time: number): void;
  /** Clears every timer and forgets every wake-up. */
  stop(): void;
}

export function createWakes(o: { pollMs: number; monotonic: () => number; wake: () => void }): Wakes {
  let stopped = true;
  let pollTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  /**
   * Every moment to wake up at (ascending). One timer runs for the earliest; when it fires it re-arms for the next,
   * so no retry waits for the poll because an earlier one was armed.
   */
  const ats: number[] = [];

  function poll() {
    if (stopped) return;
    pollTimer = setTimeout(() => {
      o.wake();
      poll();
    }, o.pollMs);
    pollTimer.unref();
  }

  function armNext() {
    const next = ats[0];
    if (stopped || next === undefined || next >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = next;
    // A few ms late, so the store's clock (wall time, ms precision) agrees the entry is due.
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Infinity;
        const now = o.monotonic();
        while (ats.length && (ats[0] ?? Infinity) <= now) ats.shift();
        o.wake();
        armNext();
      },
      Math.max(0, next - o.monotonic()) + 5,
    );
    timer.unref();
  }

  return {
    start() {
      stopped = false;
      poll();
    },
    started: () => !stopped,
    at(time) {
      if (stopped) return;
      // Wake-ups within a few ms of one another are one run.
      if (ats.some((t) => Math.abs(t - time) <= 5)) return;
      const i = ats.findIndex((t) => t > time);
      ats.splice(i < 0 ? ats.length : i, 0, time);
      armNext();
    },
    stop() {
      stopped = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (timer) clearTimeout(timer);
      timer = undefined;
      timerAt = Infinity;
      ats.length = 0;
    },
  };
}
