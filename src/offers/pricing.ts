import { TERM_MONTHS } from './terms';
import { termOf, type Billing, type Offer, type OfferLine, type Term } from './types';

/**
 * What a purchase offer costs, in integer cents. A line's `unitPriceCents` is the list price per licence per month for
 * the offer's term; a billing period is one month (monthly billing) or twelve (annual billing, paid at once).
 */

/** Months in one billing period. */
export const BILLING_MONTHS: Record<Billing, number> = { monthly: 1, annual: 12 };

/** Price per licence per billing period: the monthly price, or 12 of them for annual billing. */
export const licencePeriodCents = (line: Pick<OfferLine, 'unitPriceCents'>, billing: Billing): number =>
  (line.unitPriceCents ?? 0) * BILLING_MONTHS[billing];

/** What a line costs per billing period: every licence's price for the period. */
export const linePeriodCents = (line: Pick<OfferLine, 'unitPriceCents' | 'quantity'>, billing: Billing): number =>
  (line.quantity ?? 0) * licencePeriodCents(line, billing);

/** What a line is worth per month, however it is billed: for value figures and comparisons. */
export const lineMonthlyCents = (line: Pick<OfferLine, 'unitPriceCents' | 'quantity'>): number =>
  (line.quantity ?? 0) * (line.unitPriceCents ?? 0);

export interface OfferTotals {
  term: Term;
  billing: Billing;
  /** What the customer pays each billing period (a month or a year). */
  periodCents: number;
  /** The monthly equivalent: what the offer is worth per month. */
  monthlyCents: number;
  /** The whole commitment: every month of the term. */
  termCents: number;
}

/** A purchase offer's totals; undefined for a trial, which costs nothing. */
export function offerTotals(offer: Pick<Offer, 'lines' | 'billing' | 'term'>): OfferTotals | undefined {
  const term = termOf(offer);
  const { billing } = offer;
  if (!term || !billing) return undefined;
  const monthlyCents = offer.lines.reduce((sum, l) => sum + lineMonthlyCents(l), 0);
  return {
    term,
    billing,
    periodCents: offer.lines.reduce((sum, l) => sum + linePeriodCents(l, billing), 0),
    monthlyCents,
    termCents: monthlyCents * TERM_MONTHS[term],
  };
}
