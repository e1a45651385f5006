import type { PartnerCenterIds } from '../directory/catalog';
import { termOf, type Offer } from '../offers/types';
import type { PartnerCenterApi } from './partner-center';
import { termWords } from './wording';
import type { FulfilmentLine } from './types';

/** Why an offer cannot be bought as it stands: the catalog or Partner Center's catalog says no. Retrying will not help. */
export class PlanProblem extends Error {
  constructor(
    message: string,
    readonly lines: { serviceName: string; code?: string; reason: string }[] = [],
  ) {
    super(message);
    this.name = 'PlanProblem';
  }
}

export interface PlanInput {
  offer: Offer;
  /** The service's Partner Center ids, from the catalog file (the one place to change them). */
  idsOf: (serviceId: string) => PartnerCenterIds | undefined;
  /** The offer's term and billing as Partner Center spells them. */
  termOf: (offer: Offer) => { termDuration: string; billingCycle: string };
  pc: PartnerCenterApi;
  customerTenantId: string;
  country: string;
}

/** Microsoft's trials are a one-month term with nothing billed (checkout-a-cart, trial offers). */
const TRIAL_TERM = { termDuration: 'P1M', billingCycle: 'none' } as const;

/**
 * The cart lines for an accepted offer: per service, its SKU (the trial SKU for a trial), checked against what Partner
 * Center sells in the customer's country for the offer's term and billing. Every problem is collected, so the
 * partner reads them all at once.
 */
export async function planLines(input: PlanInput): Promise<FulfilmentLine[]> {
  const { offer, pc } = input;
  const problems: { serviceName: string; code?: string; reason: string }[] = [];
  const lines: FulfilmentLine[] = [];
  const term = offer.kind === 'trial' ? TRIAL_TERM : input.termOf(offer);
  for (const line of offer.lines) {
    const ids = input.idsOf(line.serviceId);
    const skuId = offer.kind === 'trial' ? ids?.trialSkuId : ids?.skuId;
    if (!ids || !skuId) {
      problems.push({
        serviceName: line.serviceName,
        reason: !ids
          ? `the catalog has no Partner Center product and SKU ids for ${line.serviceName} (${line.serviceId}); add them to its "partnerCenter" entry`
          : `the catalog names no trial SKU for ${line.serviceName}: Microsoft may not offer a trial of it; add "trialSkuId" if it does`,
      });
      continue;
    }
    const availabilities = await pc.availabilities(input.customerTenantId, ids.productId, skuId);
    const available = availabilities.find((a) =>
      a.terms.some((t) => t.duration === term.termDuration && t.billingCycle === term.billingCycle),
    );
    if (!available) {
      problems.push({
        serviceName: line.serviceName,
        reason: availabilities.length
          ? `Partner Center does not sell ${line.serviceName} on a ${termWords(term.termDuration, term.billingCycle)}, in ${input.country}`
          : `Partner Center does not sell ${line.serviceName} (${ids.productId}:${skuId}) in ${input.country}, the customer's billing country`,
      });
      continue;
    }
    let quantity = line.quantity ?? 0;
    if (offer.kind === 'trial') {
      // A trial SKU comes with a fixed number of seats: its minimum (and maximum) quantity.
      const sku = await pc.sku(ids.productId, skuId, input.country);
      quantity = sku.minimumQuantity ?? 1;
    }
    lines.push({
      serviceId: line.serviceId,
      serviceName: line.serviceName,
      quantity,
      productId: ids.productId,
      skuId,
      catalogItemId: available.catalogItemId,
      ...term,
    });
  }
  if (problems.length) {
    throw new PlanProblem(problems.map((p) => p.reason).join('; '), problems);
  }
  return lines;
}

/** The offer's term and billing as Partner Center spells them (`termDuration`, `billingCycle`). */
export function partnerCenterTerm(offer: Offer): { termDuration: string; billingCycle: string } {
  return { termDuration: termOf(offer) ?? 'P1M', billingCycle: offer.billing ?? 'monthly' };
}
