import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { OutboxStore } from './store';

/**
 * The deliverer's leases on the entries it holds, kept short and renewed while the process works (a heartbeat), so
 * the entries of a process that died free up within one lease instead of sitting out a long one.
 *
 * The rule that keeps the duplicate window where it was: an entry is only ever sent under a lease this process knows
 * it holds. Each lease's end is tracked in monotonic time from the moment its claim or renewal was *asked* (so a slow
 * store or a stalled event loop only makes it look shorter, never longer); a renewal is a compare-and-set on the lease
 * owner, and an entry it does not return is lost to this process at once. A process that cannot renew (store
 * unreachable, event loop stalled) sees its leases run down: it starts no send on an entry whose lease has less than
 * `startMs` left, and abandons a request still in flight when its lease is within `marginMs` of running out, before
 * another process may claim the entry.
 */
export interface DeliveryLeases {
  /** Entries just claimed, leased until `endsAt` (monotonic ms). */
  hold(ids: string[], endsAt: number): void;
  /** The entry left this process's hands (settled, given back, or dropped): no more renewals for it. */
  release(id: string): void;
  /** Monotonic ms until which the lease is known to be held; -Infinity when lost or not held. */
  endsAt(id: string): number;
  /** True once a renewal found the entry settled or taken over by another owner: it is no longer ours to send. */
  lost(id: string): boolean;
  /** A send may start only while `endsAt(id)` is at least this far ahead. */
  readonly startMs: number;
  /**
   * Calls `onLapse` once the lease on `id` is within the margin of running out (or is lost), unless renewed before; the
   * returned function cancels the watch. For a request in flight: abandon it before another process may take the entry.
   */
  watch(id: string, onLapse: () => void): () => void;
  /** Stops renewing (the entries still held run out on their own, or were given back). */
  stop(): void;
}

export interface DeliveryLeasesOptions {
  owner: string;
  store: Pick<OutboxStore, 'renew'>;
  /** The store's clock: lease ends are written in it. */
  clock: Clock;
  monotonic: () => number;
  log: Logger;
  /** Length of a lease, at claim and at each renewal. */
  leaseMs: number;
  /** How often held leases are renewed (default a quarter of the lease). */
  renewEveryMs?: number;
}

interface Held {
  endsAt: number;
  lost: boolean;
  /** Lost and still held a heartbeat later: logged once. */
  reported?: boolean;
}

export function createDeliveryLeases(o: DeliveryLeasesOptions): DeliveryLeases {
  const { owner, store, clock, monotonic: mono, log, leaseMs } = o;
  // Four chances to renew per lease: one failed or late heartbeat leaves most of the lease, two still half of it.
  const renewEveryMs = o.renewEveryMs ?? leaseMs / 4;
  // A send needs half a lease left to start: with the heartbeat working it always has more than that.
  const startMs = leaseMs / 2;
  // In-flight requests are abandoned this long before the lease ends: room for clocks that differ between processes
  // and for the abort to take effect before another process's claim can see the entry free.
  const marginMs = leaseMs / 8;
  const held = new Map<string, Held>();
  /** The requests in flight, by entry: told at once when a renewal finds their entry lost. */
  const watching = new Map<string, () => void>();
  let timer: NodeJS.Timeout | undefined;
  let renewing = false;

  async function renew(): Promise<void> {
    if (renewing || held.size === 0) return;
    renewing = true;
    // Reported a heartbeat after the renewal that found them gone: an entry this process was settling as the renewal
    // ran (its lease given up a moment before it left our hands) has been released by then, and is no news.
    const lostNow = [...held.values()].filter((h) => h.lost && !h.reported);
    for (const h of lostNow) h.reported = true;
    if (lostNow.length) log.warn({ owner, lost: lostNow.length }, 'outbox leases lost: those entries are left to whoever holds them now');
    // The records as they are now: an entry released and claimed again while the store answers gets a new record,
    // which this answer must not touch.
    const asked = new Map([...held].filter(([, h]) => !h.lost));
    const started = mono();
    const until = new Date(Math.ceil(clock().getTime() + leaseMs)).toISOString();
    try {
      const renewed = new Set(await store.renew(owner, [...asked.keys()], until));
      for (const [id, h] of asked) {
        if (held.get(id) !== h) continue;
        if (renewed.has(id)) h.endsAt = Math.max(h.endsAt, started + leaseMs);
        else {
          h.lost = true;
          h.endsAt = -Infinity;
          watching.get(id)?.();
        }
      }
    } catch (err) {
      // Nothing renewed: the leases run down, and what cannot be sent safely in time is not sent (see startMs).
      log.warn({ err, owner, held: asked.size }, 'outbox leases could not be renewed');
    } finally {
      renewing = false;
    }
  }

  function arm() {
    if (timer || held.size === 0) return;
    timer = setInterval(() => {
      if (held.size === 0) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      void renew();
    }, renewEveryMs);
    timer.unref();
  }

  const endsAt = (id: string) => held.get(id)?.endsAt ?? -Infinity;

  return {
    startMs,
    hold(ids, until) {
      for (const id of ids) held.set(id, { endsAt: until, lost: false });
      arm();
    },
    release: (id) => void held.delete(id),
    endsAt,
    lost: (id) => held.get(id)?.lost ?? false,
    watch(id, onLapse) {
      let t: NodeJS.Timeout | undefined;
      const check = () => {
        clearTimeout(t);
        const left = endsAt(id) - marginMs - mono();
        if (left <= 0) {
          t = undefined;
          watching.delete(id);
          onLapse();
          return;
        }
        // Renewals move the end: look again then, and lapse only if it has not moved.
        t = setTimeout(check, left);
        t.unref();
      };
      watching.set(id, check);
      check();
      return () => {
        clearTimeout(t);
        if (watching.get(id) === check) watching.delete(id);
      };
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
