import { randomInt, randomUUID } from 'node:crypto';

/** No 0/O or 1/I/L: ids are read aloud and typed by people. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

export type IdPrefix = 'T' | 'P';

export function newShortId(prefix: IdPrefix): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix}-${s}`;
}

/** What newShortId makes: the one definition of an offer id's shape. */
export const SHORT_ID_PATTERN = new RegExp(`^[TP]-[${ALPHABET}]{6}$`);

export const newId = (): string => randomUUID();
