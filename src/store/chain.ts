import { createHash } from 'node:crypto';
import type { NewResponse, ResponseRecord } from '../responses/types';

export const GENESIS_HASH = '0'.repeat(64);

/** Stable JSON: keys sorted at every level, so the hash does not depend on insertion order or adapter. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function chainResponse(response: NewResponse, head: { seq: number; hash: string } | null): ResponseRecord {
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const hash = createHash('sha256')
    .update(prevHash + canonical({ ...response, seq }))
    .digest('hex');
  return { ...response, seq, prevHash, hash };
}

/** True if every record links to the one before and its hash matches its content. */
export function verifyChain(records: ResponseRecord[]): boolean {
  let head: { seq: number; hash: string } | null = null;
  for (const r of records) {
    const { seq: _s, prevHash: _p, hash: _h, ...rest } = r;
    const expected = chainResponse(rest, head);
    if (expected.hash !== r.hash || expected.prevHash !== r.prevHash || expected.seq !== r.seq) return false;
    head = { seq: r.seq, hash: r.hash };
  }
  return true;
}
