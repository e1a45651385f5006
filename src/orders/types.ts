import type { OfferKind } from '../offers/types';

/**
 * Where an accepted offer stands at Microsoft, for a partner with its Partner Center app connected:
 * - `waitingForCustomer`: the customer has no reseller relationship with the partner yet (Partner Center does not
 *   know it as the partner's customer); its card carries the partner's invitation link, and the job checks back;
 * - `ordering`: the job is buying (availabilities, cart, checkout), or retrying after a failure that may pass;
 * - `placed`: Partner Center answered the checkout with an order: the only state in which a card says "placed";
 * - `failed`: Partner Center refused in a way retrying will not fix (unknown SKU, not authorised, credit limit,
 *   country); the partner is told why, and its Retry button puts the job back to `ordering`.
 */
export type FulfilmentState = 'waitingForCustomer' | 'ordering' | 'placed' | 'failed';

/** One line of the cart, as the catalog and the offer say it: Partner Center's spellings. */
export interface FulfilmentLine {
  serviceId: string;
  serviceName: string;
  quantity: number;
  productId: string;
  skuId: string;
  /** P1M, P1Y, P3Y. */
  termDuration: string;
  /** monthly, annual; `none` for trials. */
  billingCycle: string;
  /** `{product}:{sku}:{availability}`: what the cart line buys. */
  catalogItemId: string;
}

/** An order Partner Center created at checkout, as it last reported it. */
export interface PlacedOrder {
  id: string;
  /** `pending` while Microsoft provisions it, then `completed`. */
  status: string;
  createdAt?: string;
  lines: { catalogItemId: string; quantity: number; subscriptionId?: string }[];
}

/** Why the job stopped (`failed`), in Partner Center's words, and which step it stopped at. */
export interface FulfilmentFailure {
  /** `cart` (a line Partner Center refused, or nothing to buy): Retry builds a new cart; `checkout`: Retry checks out the same one. */
  stage: 'customer' | 'catalog' | 'cart' | 'checkout' | 'connection';
  reason: string;
  code?: string;
  at: string;
  /** Lines Partner Center refused, each with its reason. */
  lines?: { serviceName: string; code?: string; reason: string }[];
}

/**
 * The fulfilment job of one accepted offer (its id is the offer's): written in the same transaction as the decision,
 * then moved on by the leased sweep. Holds no secret and no token.
 */
export interface Fulfilment {
  /** The offer's id: one fulfilment per offer. */
  id: string;
  version: number;
  partnerTenantId: string;
  customerTenantId: string;
  kind: OfferKind;
  state: FulfilmentState;
  /** The order's list value per month (quantity × list price per licence per month; 0 for a trial), in cents. */
  valueCentsPerMonth: number;
  currency: string;
  lines: FulfilmentLine[];
  /** MS-CorrelationId of every call made for this offer. */
  correlationId: string;
  /**
   * MS-RequestId of the cart's creation, stored before the request: after a crash the same id gets the same cart from
   * Partner Center instead of a second one. A new one only when a new cart is really wanted (after Retry).
   */
  cartRequestId: string;
  cartId?: string;
  /**
   * Set (and stored) before the cart's first checkout: from then on an order may exist for the cart even if no answer
   * said so, so a cart Partner Center no longer has is never replaced without the partner checking first.
   */
  checkoutAttemptedAt?: string;
  /** The customer's billing country in Partner Center (where availabilities are looked up). */
  country?: string;
  /** The partner's reseller relationship invitation (while `waitingForCustomer`). */
  invitationLink?: string;
  /** Since when the job waits for the customer to accept the reseller invitation. */
  waitingSince?: string;
  orders?: PlacedOrder[];
  placedAt?: string;
  failure?: FulfilmentFailure;
  /** The last failure that may pass (throttling, 5xx, no answer), while the job retries it. */
  retrying?: { reason: string; at: string };
  /** Failures in a row that may pass: the backoff grows with it. */
  attempts: number;
  /** The partner was told the order keeps failing and is still being retried (once per run of failures). */
  toldRetrying?: boolean;
  /** When the sweep should look next; absent when there is nothing left to do. */
  dueAt?: string;
  /** The process working on it, until when: another process leaves it alone until then. */
  lease?: { owner: string; until: string };
  createdAt: string;
  updatedAt: string;
}
