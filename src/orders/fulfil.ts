import { randomUUID } from 'node:crypto';
import { formatDate } from '../cards/format';
import type { Clock } from '../clock';
import type { MicrosoftApp } from '../directory/microsoft';
import type { Logger } from '../log';
import { channelNotice } from '../notifications/channel';
import type { ChannelsStore } from '../notifications/store';
import { userTarget, type NewOutboxEntry } from '../notifications/types';
import { offerCardUpdates } from '../offers/service';
import type { OffersStore } from '../offers/store';
import type { Offer } from '../offers/types';
import type { NewResponse } from '../responses/types';
import { isPartnerCenterError, type PartnerCenterApi, type PartnerCenterClient, type PcOrder } from './partner-center';
import { planLines, PlanProblem, type PlanInput } from './plan';
import { backoffMs, customerCheckMs, LEASE_MS, orderCheckMs, TELL_PARTNER_AFTER_ATTEMPTS } from './policy';
import type { FulfilmentsStore } from './store';
import type { Fulfilment, FulfilmentFailure, PlacedOrder } from './types';

/** Outbox messages of this capability, rendered at delivery by the builders registered in ./index. */
export const ORDER_NOTICE = 'order.notice';
export const ORDER_CHANNEL = 'order.channel';
export const ORDER_EVENTS = ['waitingForCustomer', 'placed', 'failed', 'retrying'] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];

export interface FulfilmentDeps {
  store: { fulfilments: FulfilmentsStore; offers: OffersStore; channels: ChannelsStore };
  partnerCenter: PartnerCenterClient;
  /** Partners that connected their Partner Center app (partners file), by partner tenant id. */
  apps: ReadonlyMap<string, MicrosoftApp>;
  idsOf: PlanInput['idsOf'];
  termOf: PlanInput['termOf'];
  clock: Clock;
  log: Logger;
  /** This process, as lease owner. */
  owner?: string;
  /** How long a step may hold the job (FULFILMENT_LEASE_SECONDS); default LEASE_MS. */
  leaseMs?: number;
  random?: () => number;
}

/** A step's outcome: the job as it is to be stored (lease released), with what the change sends and records. */
interface Step {
  next: Fulfilment;
  outbox: NewOutboxEntry[];
  responses: NewResponse[];
}

/** What one run of a job knows of it: the version it wrote last (a later version means another run took over). */
interface RunState {
  version: number;
}

/** Refused by Partner Center or by the catalog in a way retrying will not fix: the job stops and the partner is told. */
class Stop extends Error {
  constructor(readonly failure: Omit<FulfilmentFailure, 'at'>) {
    super(failure.reason);
  }
}

const iso = (d: Date) => d.toISOString();
const later = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();
const without = <T extends object, K extends keyof T>(o: T, ...keys: K[]): Omit<T, K> => {
  const copy = { ...o };
  for (const k of keys) delete copy[k];
  return copy;
};

/**
 * The partner's reseller relationship invitation, without delegated admin (GDAP is asked for on its own), in the shape
 * Partner Center's "Request a reseller relationship" gives it.
 */
export const resellerInvitationLink = (partnerTenantId: string): string =>
  `https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship&partnerId=${encodeURIComponent(partnerTenantId)}&msppId=0&DAP=false#/BillingAccounts/partner-invitation`;

/** A fresh job for an accepted offer: due at once, its Partner Center request ids made before any call. */
export function newFulfilment(offer: Offer, now: Date): Fulfilment {
  return {
    id: offer.id,
    version: 1,
    partnerTenantId: offer.partnerTenantId,
    customerTenantId: offer.approver!.tenantId,
    kind: offer.kind,
    state: 'ordering',
    valueCentsPerMonth: offer.kind === 'trial' ? 0 : offer.lines.reduce((sum, l) => sum + (l.quantity ?? 0) * (l.unitPriceCents ?? 0), 0),
    currency: offer.currency,
    lines: [],
    correlationId: randomUUID(),
    cartRequestId: randomUUID(),
    attempts: 0,
    dueAt: iso(now),
    createdAt: iso(now),
    updatedAt: iso(now),
  };
}

/**
 * Places the order (or starts the trial) an accepted offer asked for, through the partner's Partner Center app, and
 * follows it until Partner Center reports its subscriptions. Every step can be repeated without buying twice: the
 * cart is created with an MS-RequestId stored before the call (Partner Center answers a repeat with the same cart), its
 * id is stored before checkout, and checkout is idempotent per cart. A lease keeps other processes off a job while one
 * works on it; a process that dies leaves the job due again when the lease runs out.
 */
export function createFulfilment(deps: FulfilmentDeps) {
  const { store, apps, clock, log } = deps;
  const owner = deps.owner ?? `fulfilment-${randomUUID()}`;
  const random = deps.random ?? Math.random;

  const connected = (partnerTenantId: string) => apps.has(partnerTenantId);

  /** The job an acceptance starts, for a partner connected to Partner Center; none otherwise. */
  const start = (offer: Offer, now: Date): Fulfilment | undefined =>
    connected(offer.partnerTenantId) && offer.approver ? newFulfilment(offer, now) : undefined;

  const notice = (offer: Offer, event: OrderEvent): NewOutboxEntry => ({
    target: userTarget(offer.issuedBy),
    action: { kind: 'send', message: { kind: ORDER_NOTICE, args: { offerId: offer.id, event } } },
    subject: { kind: 'offer', id: offer.id },
    partnerTenantId: offer.partnerTenantId,
  });

  const channel = (offer: Offer) =>
    channelNotice(store, offer.partnerTenantId, { kind: ORDER_CHANNEL, args: { offerId: offer.id } }, { kind: 'offer', id: offer.id });

  /** What Partner Center confirmed, as its own record in the customer's chain (slot `order`, or `subscriptions`). */
  function record(offer: Offer, f: Fulfilment, slot: 'order' | 'subscriptions', now: Date): NewResponse {
    const by = offer.approver!;
    const orders = f.orders ?? [];
    return {
      id: `${offer.id}/${slot}`,
      subjectKind: 'offer',
      subjectId: offer.id,
      slot,
      decision: slot === 'order' ? 'placed' : 'provisioned',
      by: { aadObjectId: by.aadObjectId, name: by.name, ...(by.email ? { upn: by.email } : {}), tenantId: by.tenantId },
      at: iso(now),
      conversationId: offer.card?.conversationId ?? '',
      activityId: offer.card?.activityId ?? '',
      customerTenantId: f.customerTenantId,
      microsoft: {
        api: 'partnerCenter',
        cartId: f.cartId!,
        orderIds: orders.map((o) => o.id),
        subscriptionIds: orders.flatMap((o) => o.lines.flatMap((l) => (l.subscriptionId ? [l.subscriptionId] : []))),
        status: [...new Set(orders.map((o) => o.status))].join(', '),
        reportedAt: orders[0]?.createdAt ?? iso(now),
        ...(f.failure?.lines?.length
          ? { failed: f.failure.lines.map((l) => ({ ...(l.code ? { code: l.code } : {}), reason: l.reason })) }
          : {}),
      },
    };
  }

  const placedOrder = (o: PcOrder): PlacedOrder => ({
    id: o.id,
    status: o.status,
    ...(o.createdAt ? { createdAt: o.createdAt } : {}),
    lines: o.lines.map((l) => ({
      catalogItemId: l.catalogItemId,
      quantity: l.quantity,
      ...(l.subscriptionId ? { subscriptionId: l.subscriptionId } : {}),
    })),
  });

  /** Order statuses after which Partner Center changes nothing more. */
  const FINAL_ORDER = new Set(['completed', 'cancelled']);

  const provisioned = (orders: PlacedOrder[]) =>
    orders.length > 0 && orders.every((o) => o.status === 'completed' && o.lines.every((l) => l.subscriptionId));

  /** Takes the lease: a compare-and-set, so of several processes one gets it. The job is due again when it runs out. */
  async function claim(f: Fulfilment, now: Date): Promise<Fulfilment | null> {
    const until = later(now, deps.leaseMs ?? LEASE_MS);
    const leased: Fulfilment = { ...f, version: f.version + 1, lease: { owner, until }, dueAt: until };
    return (await store.fulfilments.update(leased, f.version, [])) ? leased : null;
  }

  /**
   * Stores a step reached while still holding the lease (the cart id, before checkout), and renews the lease for the
   * steps still to come; null if the lease was lost meanwhile (another process has the job: this run stops).
   */
  async function keep(
    run: RunState,
    f: Fulfilment,
    change: Partial<Fulfilment>,
    outbox: NewOutboxEntry[] = [],
  ): Promise<Fulfilment | null> {
    const now = clock();
    const until = later(now, deps.leaseMs ?? LEASE_MS);
    const next: Fulfilment = { ...f, ...change, version: f.version + 1, lease: { owner, until }, dueAt: until, updatedAt: iso(now) };
    if (!(await store.fulfilments.update(next, f.version, outbox))) return null;
    run.version = next.version;
    return next;
  }

  /** The job as stored after a step: lease released, next look scheduled (none when there is nothing left to do). */
  const settled = (f: Fulfilment, change: Partial<Fulfilment>, dueAt: string | undefined, now: Date): Fulfilment => {
    const next: Fulfilment = { ...without(f, 'lease', 'dueAt'), ...change, version: f.version + 1, updatedAt: iso(now) };
    if (dueAt) next.dueAt = dueAt;
    else delete next.dueAt;
    return next;
  };

  async function run(state: RunState, f0: Fulfilment, offer: Offer, pc: PartnerCenterApi, now: Date): Promise<Step | null> {
    let f = f0;
    if (f.state === 'placed') return followOrders(f, offer, pc, now);

    // 1. The customer, as the partner's customer in Partner Center.
    if (!f.country || f.state === 'waitingForCustomer') {
      const customer = await pc.getCustomer(f.customerTenantId);
      if (!customer) {
        if (f.state === 'waitingForCustomer' && f.invitationLink) {
          return { next: settled(f, {}, later(now, customerCheckMs(f, now)), now), outbox: [], responses: [] };
        }
        const invitationLink = await pc.resellerInvitationLink().catch((err: unknown) => {
          // Partner Center documents this call for App+User tokens only; with the app's own token it may refuse it.
          // The link it gives has a documented shape, so the partner's own is made from its tenant id then.
          if (isPartnerCenterError(err, 'unauthorized')) return resellerInvitationLink(f.partnerTenantId);
          throw err;
        });
        const next = settled(
          f,
          { state: 'waitingForCustomer', invitationLink, waitingSince: iso(now), attempts: 0, ...clearRetrying() },
          later(now, customerCheckMs({ waitingSince: iso(now) }, now)),
          now,
        );
        return { next, outbox: [...offerCardUpdates(offer), notice(offer, 'waitingForCustomer')], responses: [] };
      }
      if (!customer.country) {
        throw new Stop({
          stage: 'customer',
          reason: 'Partner Center has no billing country for this customer, so it cannot say what may be sold to it.',
        });
      }
      // Accepted the invitation: the card moves from "waiting" to "ordering".
      const kept = await keep(
        state,
        f,
        { state: 'ordering', country: customer.country },
        f.state === 'waitingForCustomer' ? offerCardUpdates(offer) : [],
      );
      if (!kept) return null;
      f = kept;
    }

    // 2. The cart: planned from the catalog and Partner Center's availabilities; its id stored before checkout.
    if (!f.cartId) {
      let lines;
      try {
        lines = await planLines({
          offer,
          idsOf: deps.idsOf,
          termOf: deps.termOf,
          pc,
          customerTenantId: f.customerTenantId,
          country: f.country!,
        });
      } catch (err) {
        if (err instanceof PlanProblem) throw new Stop({ stage: 'catalog', reason: err.message, lines: err.lines });
        throw err;
      }
      const cart = await pc.createCart(
        f.customerTenantId,
        lines.map((l, id) => ({
          id,
          catalogItemId: l.catalogItemId,
          quantity: l.quantity,
          termDuration: l.termDuration,
          billingCycle: l.billingCycle,
        })),
        f.cartRequestId,
      );
      const kept = await keep(state, f, { lines, cartId: cart.id });
      if (!kept) return null;
      f = kept;
      const refused = cart.lines.filter((l) => l.error);
      if (refused.length) {
        throw new Stop({
          stage: 'cart',
          reason: `Partner Center refused ${refused.length === 1 ? 'a line' : `${refused.length} lines`} of the order`,
          lines: refused.map((l) => ({
            serviceName: lines[l.id]?.serviceName ?? l.catalogItemId,
            ...(l.error!.code ? { code: l.error!.code } : {}),
            reason: l.error!.description ?? 'refused',
          })),
        });
      }
    }

    // 3. Checkout: idempotent per cart, so a repeat after a crash or a lost answer gets the first checkout's orders.
    if (!f.checkoutAttemptedAt) {
      const kept = await keep(state, f, { checkoutAttemptedAt: iso(now) });
      if (!kept) return null;
      f = kept;
    }
    let checkout;
    try {
      checkout = await pc.checkout(f.customerTenantId, f.cartId!);
    } catch (err) {
      if (isPartnerCenterError(err, 'notFound')) {
        // Carts expire seven days after creation, checked out or not. Checked out before (its answer lost), it may have
        // made an order: a new cart could buy twice, so the partner looks first, and Retry then builds a new cart.
        throw new Stop({
          stage: 'cart',
          reason: `Partner Center no longer has cart ${f.cartId}, checked out on ${formatDate(f.checkoutAttemptedAt)} without an answer the bot received. Look in Partner Center for an order for this customer from that day before pressing Retry, which orders again`,
          ...(err.details.code ? { code: err.details.code } : {}),
        });
      }
      throw err;
    }
    const refused = checkout.errors.map((e) => ({
      serviceName: 'order',
      ...(e.code ? { code: e.code } : {}),
      reason: e.description ?? 'refused',
    }));
    if (!checkout.orders.length) {
      throw new Stop({
        stage: 'checkout',
        reason: refused.length ? refused.map((r) => r.reason).join('; ') : 'Partner Center created no order for the cart',
        ...(refused[0]?.code ? { code: refused[0].code } : {}),
        lines: refused,
      });
    }
    const orders = checkout.orders.map(placedOrder);
    const placed = settled(
      f,
      {
        state: 'placed',
        orders,
        placedAt: iso(now),
        attempts: 0,
        ...clearRetrying(),
        ...(refused.length
          ? { failure: { stage: 'checkout', reason: 'Partner Center refused part of the order', at: iso(now), lines: refused } }
          : {}),
      },
      provisioned(orders) ? undefined : later(now, orderCheckMs({ placedAt: iso(now) }, now)),
      now,
    );
    if (!refused.length) delete placed.failure;
    const responses = [record(offer, placed, 'order', now)];
    if (provisioned(orders)) responses.push(record(offer, placed, 'subscriptions', now));
    return {
      next: placed,
      outbox: [...offerCardUpdates(offer), notice(offer, 'placed'), ...(await channel(offer))],
      responses,
    };
  }

  /** After checkout: the orders until Partner Center reports them completed with their subscriptions. */
  async function followOrders(f: Fulfilment, offer: Offer, pc: PartnerCenterApi, now: Date): Promise<Step> {
    const orders: PlacedOrder[] = [];
    for (const o of f.orders ?? []) orders.push(FINAL_ORDER.has(o.status) ? o : placedOrder(await pc.getOrder(f.customerTenantId, o.id)));
    const done = provisioned(orders);
    // Completed (or cancelled) orders change no more: nothing left to follow, whether or not each has its subscription.
    const final = orders.every((o) => FINAL_ORDER.has(o.status));
    const next = settled(f, { orders, attempts: 0, ...clearRetrying() }, final ? undefined : later(now, orderCheckMs(f, now)), now);
    return {
      next,
      outbox: final ? offerCardUpdates(offer) : [],
      responses: done ? [record(offer, next, 'subscriptions', now)] : [],
    };
  }

  const clearRetrying = () => ({ retrying: undefined, toldRetrying: undefined });
  const clean = (f: Fulfilment): Fulfilment => {
    const copy = { ...f };
    for (const k of ['retrying', 'toldRetrying', 'failure', 'cartId', 'checkoutAttemptedAt'] as const)
      if (copy[k] === undefined) delete copy[k];
    return copy;
  };

  /** Looks at one job if it is due: the sweep's unit of work. True if it changed. */
  async function advance(id: string): Promise<boolean> {
    const found = await store.fulfilments.get(id);
    const now = clock();
    if (!found?.dueAt || found.dueAt > iso(now)) return false;
    const mine = await claim(found, now);
    if (!mine) return false;
    const offer = await store.offers.get(mine.id);
    if (!offer?.approver) {
      const failure = { stage: 'connection' as const, reason: 'the accepted offer is no longer in the store', at: iso(now) };
      await store.fulfilments.update(settled(mine, { state: 'failed', failure }, undefined, now), mine.version, []);
      log.error({ offerId: mine.id }, 'fulfilment job without its offer; stopped');
      return false;
    }
    const state: RunState = { version: mine.version };
    let step: Step | null;
    try {
      const app = apps.get(mine.partnerTenantId);
      if (!app) {
        throw new Stop({
          stage: 'connection',
          reason: `${offer.partnerName} has no Partner Center connection in the partners file any more, so the bot cannot place this order`,
        });
      }
      step = await run(state, mine, offer, deps.partnerCenter.forPartner(app, mine.correlationId), now);
    } catch (err) {
      step = await failed(err, await store.fulfilments.get(mine.id), state, offer, now);
    }
    if (!step) return false;
    const written = await store.fulfilments.update(clean(step.next), step.next.version - 1, step.outbox, step.responses);
    if (written) log.info({ offerId: mine.id, state: step.next.state, orders: step.next.orders?.map((o) => o.id) }, 'fulfilment step');
    return written;
  }

  /** A step that threw: stopped for the partner to fix, or retried later. Null when the lease was lost meanwhile. */
  async function failed(err: unknown, current: Fulfilment | null, state: RunState, offer: Offer, now: Date): Promise<Step | null> {
    // Only the run that wrote the job last may settle it: a run whose lease ran out (even in this process) stops here.
    if (!current || current.version !== state.version || current.lease?.owner !== owner) return null;
    // After checkout, an answer that is not what Partner Center documents (or a conflict with a concurrent checkout)
    // leaves the outcome unknown: asked again, checkout answers the orders it made, so it is retried, never stopped.
    const outcomeUnknown =
      isPartnerCenterError(err) &&
      !!current.checkoutAttemptedAt &&
      (err.kind === 'conflict' || (err.kind === 'invalid' && (err.details.status ?? 0) >= 200 && (err.details.status ?? 0) < 300));
    // A placed order stays placed: failing to read it back changes nothing at Microsoft, so that is only retried.
    const stop =
      current.state === 'placed' || outcomeUnknown
        ? undefined
        : err instanceof Stop
          ? err.failure
          : isPartnerCenterError(err) && !err.retryable
            ? {
                stage: stageOf(current),
                reason: err.description ?? err.message,
                ...(err.details.code ? { code: err.details.code } : {}),
              }
            : undefined;
    if (stop) {
      log.warn({ offerId: current.id, stage: stop.stage, code: stop.code }, `order stopped: ${stop.reason}`);
      const next = settled(
        current,
        { state: 'failed', failure: { ...stop, at: iso(now) }, attempts: 0, ...clearRetrying() },
        undefined,
        now,
      );
      return { next, outbox: [...offerCardUpdates(offer), notice(offer, 'failed')], responses: [] };
    }
    // It may pass: throttling, 5xx, no answer, or something unexpected here. Try again later, for as long as it takes.
    const reason = isPartnerCenterError(err) ? err.message : `unexpected: ${(err as Error).message}`;
    if (!isPartnerCenterError(err)) log.error({ err, offerId: current.id }, 'fulfilment step failed unexpectedly');
    const attempts = current.attempts + 1;
    const retryAfter = isPartnerCenterError(err) ? err.retryAfterMs : undefined;
    const tell = attempts >= TELL_PARTNER_AFTER_ATTEMPTS && !current.toldRetrying && current.state !== 'placed';
    const next = settled(
      current,
      { attempts, retrying: { reason, at: iso(now) }, ...(tell ? { toldRetrying: true } : {}) },
      later(now, backoffMs(attempts, retryAfter, random)),
      now,
    );
    return { next, outbox: tell ? [notice(offer, 'retrying')] : [], responses: [] };
  }

  const stageOf = (f: Fulfilment): FulfilmentFailure['stage'] => (!f.country ? 'customer' : !f.cartId ? 'cart' : 'checkout');

  /** Every due job, a few at a time; one job's failure never stops the others. */
  async function sweep(limit = 20): Promise<number> {
    const due = await store.fulfilments.listDue(iso(clock()), limit);
    let changed = 0;
    for (const f of due) {
      try {
        if (await advance(f.id)) changed++;
      } catch (err) {
        log.error({ err, offerId: f.id }, 'fulfilment sweep: job failed');
      }
    }
    return changed;
  }

  /**
   * The partner's Retry after fixing what stopped the job: back to work at once. A cart Partner Center refused lines
   * of (or one never made) is made again; a refused checkout (credit limit) checks out the same cart again.
   */
  async function retry(offerId: string): Promise<{ kind: 'retrying' | 'notFailed'; fulfilment: Fulfilment } | { kind: 'none' }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const f = await store.fulfilments.get(offerId);
      if (!f) return { kind: 'none' };
      if (f.state !== 'failed') return { kind: 'notFailed', fulfilment: f };
      const offer = await store.offers.get(offerId);
      const now = clock();
      const newCart = f.failure?.stage === 'cart' || f.failure?.stage === 'catalog';
      const next = settled(
        f,
        {
          state: f.invitationLink && !f.country ? 'waitingForCustomer' : 'ordering',
          attempts: 0,
          ...(newCart ? { cartRequestId: randomUUID() } : {}),
        },
        iso(now),
        now,
      );
      delete next.failure;
      if (newCart) {
        delete next.cartId;
        delete next.checkoutAttemptedAt;
      }
      if (await store.fulfilments.update(next, f.version, offer ? offerCardUpdates(offer) : []))
        return { kind: 'retrying', fulfilment: next };
    }
    const f = await store.fulfilments.get(offerId);
    return f ? { kind: 'notFailed', fulfilment: f } : { kind: 'none' };
  }

  return { connected, start, advance, sweep, retry };
}

export type Fulfilments = ReturnType<typeof createFulfilment>;
