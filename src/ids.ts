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
