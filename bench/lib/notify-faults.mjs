// The fault plan of `npm run bench:notify`: which answer the connector sink gives to each attempt of each entry.
//
// The outcome of attempt `a` (0 for the first request, 1 for the first retry, ...) of the entry with logical key `k`
// (tenant, conversation and position, e.g. `t07-c3-n5`, the same in every run) is a pure function of
// (seed, k, a): a 32-bit hash of the three, mapped to [0, 1). Below P_429 the sink answers 429 with Retry-After,
// below P_429 + P_503 it answers 503, otherwise 200. Keyed by entry and attempt, not by arrival order, so neither
// concurrency nor the order the deliverer picks can change which requests are faulted: every run, and the ideal
// sender the lower bound simulates, see the same outcomes.

export const P_429 = 0.1;
export const P_503 = 0.05;
export const RETRY_AFTER_S = 1;
export const DEFAULT_SEED = 20261125;

/** FNV-1a over the string, then a murmur3-style finaliser: a well-mixed 32-bit hash. */
function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** '429', '503' or 'ok' for attempt `attempt` of entry `key`. */
export function outcomeOf(seed, key, attempt) {
  const u = hash32(`${seed}|${key}|${attempt}`) / 2 ** 32;
  if (u < P_429) return '429';
  if (u < P_429 + P_503) return '503';
  return 'ok';
}

/** The planned outcomes of one entry up to and including its first 'ok' (capped, in case of a pathological seed). */
export function chainOf(seed, key, cap = 50) {
  const chain = [];
  for (let a = 0; a < cap; a++) {
    const o = outcomeOf(seed, key, a);
    chain.push(o);
    if (o === 'ok') break;
  }
  return chain;
}

/** Logical key of notification `n` of conversation `c` of tenant `t` (all 0-based). */
export const logicalKey = (t, c, n) => `t${String(t).padStart(2, '0')}-c${c}-n${n}`;

// `node bench/lib/notify-faults.mjs [seed] [tenants] [conversations] [perConversation]` prints every entry's planned
// answers, one line per entry: which requests the sink faults, for the record.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [seed = DEFAULT_SEED, tenants = 20, conversations = 10, per = 10] = process.argv.slice(2).map(Number);
  for (let t = 0; t < tenants; t++)
    for (let c = 0; c < conversations; c++)
      for (let n = 0; n < per; n++) console.log(`${logicalKey(t, c, n)} ${chainOf(seed, logicalKey(t, c, n)).join(' ')}`);
}
