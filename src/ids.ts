import { randomInt, randomUUID } from 'node:crypto';

/** No 0/O or 1/I/L: ids are read aloud and typed by people. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/**
 * T: trial invitation, P: purchase offer, D: delegated-admin request, R: partner-of-record request,
 * M: marketplace listing, C: request to be contacted (a lead).
 */
export type IdPrefix = 'T' | 'P' | 'D' | 'R' | 'M' | 'C';

export function newShortId(prefix: IdPrefix): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix}-${s}`;
}

/** What newShortId makes for the given prefixes: the one definition of an id's shape. */
export const shortIdPattern = (prefixes: string): RegExp => new RegExp(`^[${prefixes}]-[${ALPHABET}]{6}$`);

/** Offer ids (trial invitations and purchase offers). */
export const SHORT_ID_PATTERN = shortIdPattern('TP');
/** Delegated-admin and partner-of-record ids. */
export const RELATIONSHIP_ID_PATTERN = shortIdPattern('DR');

export const newId = (): string => randomUUID();

/**
 * Whether a failed insert clashed on a short id: six characters from 31 leave a small chance that a new id is taken,
 * and a fresh id fixes it. SQLite names the column (`offers.id`), MongoDB the duplicate `_id`.
 */
const isIdClash = (err: unknown): boolean => /(offers|relationships)\.id|duplicate key.*_id/i.test(String((err as Error)?.message));

/** Runs `create`, which draws new ids each time, again (at most 3 more times) when its insert clashed on an id. */
export async function withFreshIds<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (attempt >= 3 || !isIdClash(err)) throw err;
    }
  }
}
