import type { Billing, Term } from './types';

/**
 * Terms and billing frequencies in people's words: how a partner may type them, how cards say them. Microsoft keeps
 * the two apart (a 1-year term may be paid monthly or annually), and so does everything here.
 */

export const TERMS = ['P1M', 'P1Y', 'P3Y'] as const satisfies readonly Term[];
export const BILLINGS = ['monthly', 'annual'] as const satisfies readonly Billing[];

/** How many months a term lasts. */
export const TERM_MONTHS: Record<Term, number> = { P1M: 1, P1Y: 12, P3Y: 36 };

/** How each term may be paid: a month's term is paid monthly only; longer terms monthly or annually. */
export const BILLINGS_OF: Record<Term, readonly Billing[]> = {
  P1M: ['monthly'],
  P1Y: ['monthly', 'annual'],
  P3Y: ['monthly', 'annual'],
};

/** The terms a catalog service is sold on (those it has a price for), shortest first. */
export const termsOffered = (service: { priceCents: Partial<Record<Term, number>> }): Term[] =>
  TERMS.filter((t) => service.priceCents[t] !== undefined);

/** "1-year", as in "1-year term". */
export const TERM_ADJECTIVE: Record<Term, string> = { P1M: '1-month', P1Y: '1-year', P3Y: '3-year' };

/** "1 year", as typed after `term`. */
export const TERM_TYPED: Record<Term, string> = { P1M: '1 month', P1Y: '1 year', P3Y: '3 years' };

export const BILLED: Record<Billing, string> = { monthly: 'billed monthly', annual: 'billed annually' };

/** The billing period's name: "month", "year". */
export const PERIOD: Record<Billing, string> = { monthly: 'month', annual: 'year' };

/** "1-year term, billed monthly". */
export const termsInWords = (term: Term, billing: Billing): string => `${TERM_ADJECTIVE[term]} term, ${BILLED[billing]}`;

/** "1-year and 3-year terms", "a 1-year term": the terms a service is sold on, for a sentence. */
export function termsList(terms: readonly Term[]): string {
  const words = TERMS.filter((t) => terms.includes(t)).map((t) => TERM_ADJECTIVE[t]);
  if (words.length === 1) return `a ${words[0]} term`;
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]} terms`;
}

/**
 * How a partner writes this term and billing at the end of an `offer` command: the short form where there is one
 * (`monthly` is a 1-month term billed monthly, `annual` a 1-year term billed annually), else `term 1 year billing monthly`.
 */
export function termsCommand(term: Term, billing: Billing): string {
  if (term === 'P1M' && billing === 'monthly') return 'monthly';
  if (term === 'P1Y' && billing === 'annual') return 'annual';
  return `term ${TERM_TYPED[term]} billing ${billing}`;
}

/** Case, hyphens and spacing do not matter: "3-Year", "3  years". */
const normalise = (typed: string): string => typed.trim().toLowerCase().replace(/-/g, ' ').replace(/\s+/g, ' ');

/** Every way a term may be typed after `term`; nothing here means two things. */
const TERM_SPELLINGS: ReadonlyMap<string, Term> = new Map(
  Object.entries({
    monthly: 'P1M',
    '1 month': 'P1M',
    'one month': 'P1M',
    p1m: 'P1M',
    annual: 'P1Y',
    '1 year': 'P1Y',
    'one year': 'P1Y',
    '12 months': 'P1Y',
    p1y: 'P1Y',
    '3 years': 'P3Y',
    '3 year': 'P3Y',
    'three years': 'P3Y',
    'three year': 'P3Y',
    '36 months': 'P3Y',
    p3y: 'P3Y',
  } satisfies Record<string, Term>),
);

const BILLING_SPELLINGS: ReadonlyMap<string, Billing> = new Map([
  ['monthly', 'monthly'],
  ['annual', 'annual'],
  ['annually', 'annual'],
]);

/** The term a partner typed after `term`, or undefined if it is not one Microsoft sells. A Map: "constructor" is no term. */
export const readTerm = (typed: string): Term | undefined => TERM_SPELLINGS.get(normalise(typed));

/** The billing frequency a partner typed after `billing`, or undefined. */
export const readBilling = (typed: string): Billing | undefined => BILLING_SPELLINGS.get(normalise(typed));
