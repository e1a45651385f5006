/**
 * The stand-in's own clock: real time by default, settable and advanceable so tests can reach "90 days later" or
 * "after endDateTime" without waiting. Every lifecycle step is computed from this clock when a request arrives.
 */
import type { StandInClock } from './types';

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/**
 * Milliseconds in an ISO 8601 duration (`P730D`, `P2Y`, `PT0S`, `P180D`), or undefined when it is not one.
 * A year counts 365 days and a month 30, so `P2Y` = `P730D`, Graph's documented maximum.
 */
export function parseIsoDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, y, mo, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  return ((y ?? 0) * 365 + (mo ?? 0) * 30 + (w ?? 0) * 7 + (d ?? 0)) * DAY + ((h ?? 0) * 3600 + (mi ?? 0) * 60 + (s ?? 0)) * SECOND;
}

export const DAY_MS = DAY;

export class Clock implements StandInClock {
  private offset = 0;
  private frozenAt: number | undefined;

  constructor(start?: Date | string, frozen = false) {
    // Frozen first, so a frozen clock holds exactly `start`.
    if (frozen) this.freeze();
    if (start !== undefined) this.set(start);
  }

  /** Milliseconds since the epoch on the stand-in's clock. */
  ms(): number {
    return this.frozenAt ?? Date.now() + this.offset;
  }

  now(): Date {
    return new Date(this.ms());
  }

  set(instant: Date | string): void {
    const t = new Date(instant).getTime();
    if (Number.isNaN(t)) throw new Error(`Not an instant: ${String(instant)}`);
    if (this.frozenAt !== undefined) this.frozenAt = t;
    else this.offset = t - Date.now();
  }

  advance(by: number | string): void {
    const ms = typeof by === 'number' ? by : parseIsoDuration(by);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) throw new Error(`Not a forward duration: ${String(by)}`);
    this.set(new Date(this.ms() + ms));
  }

  isFrozen(): boolean {
    return this.frozenAt !== undefined;
  }

  freeze(): void {
    this.frozenAt = this.ms();
  }

  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }
}

/** Graph writes instants with seven fractional digits (`2022-02-10T11:24:42.3148266Z`); so does the stand-in. */
export function graphDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}
