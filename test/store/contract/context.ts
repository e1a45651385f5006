import type { RelationshipDecision } from '../../../src/delegation/store';
import type { Relationship } from '../../../src/delegation/types';
import { applyDecision } from '../../../src/offers/rules';
import type { Decision, Offer, Person } from '../../../src/offers/types';
import type { Store } from '../../../src/store/types';
import {
  T0,
  approvedRel,
  declinedRel,
  endedRel,
  newResponse,
  notifyIssuer,
  notifyRelIssuer,
  partnerRef,
  relResponse,
  terminationResponse,
  updateCard,
} from '../support/fixtures';

/** What one adapter's test file provides to run the contract against it. */
export interface StoreHarness {
  /** Once before the suite (start a server, say). */
  setup?(): Promise<void>;
  /** A fresh, empty store whose clock is `now` (the real clock when omitted). */
  open(now?: () => Date): Promise<Store>;
  /**
   * `n` handles on ONE fresh, empty database, each its own connection, able to run at the same time (real clock).
   * Tests use handle 0 to set up and to read back.
   */
  openHandles(n: number): Promise<Store[]>;
  /**
   * Starts every call at the same instant, as far as the backend allows; each call makes exactly one call on a
   * handle of its own. Default: `Promise.all`, which is a real race when the handles do I/O (MongoDB).
   */
  together?<T>(calls: Array<() => Promise<T>>): Promise<T[]>;
  /** After each test: closes what `open` and `openHandles` returned and discards their data. */
  cleanup(): Promise<void>;
  /** Once after the suite. */
  dispose?(): Promise<void>;
}

/**
 * What every capability's cases share, made once per adapter by `describeStoreContract`: the harness, the clock the
 * stores `open` returns run on (back to T0 before each test), `together`, the decisions built the way the services
 * build them, and the store of the running test under `one handle` (opened in a parent `beforeEach`, so read it in
 * a `beforeEach` or a test, never while the cases are being declared).
 */
export function contractContext(harness: StoreHarness, store: () => Store) {
  const clock = { now: new Date(T0) };
  const nowIso = () => clock.now.toISOString();
  const together = <T>(calls: Array<() => Promise<T>>): Promise<T[]> =>
    harness.together ? harness.together(calls) : Promise.all(calls.map((c) => c()));

  /** Everything a decision by the offer's approver passes to `decide`, built the way the offers service does. */
  const decision = (o: Offer, d: Decision, extra: { note?: string; responseId?: string; activityId?: string } = {}) => {
    const next = applyDecision(o, d, clock.now);
    const response = newResponse(o, d, {
      at: nowIso(),
      ...(extra.responseId ? { id: extra.responseId } : {}),
      ...(extra.activityId ? { activityId: extra.activityId } : {}),
    });
    const card = o.card ?? { conversationId: response.conversationId, activityId: response.activityId };
    const outbox = [updateCard(next, card), notifyIssuer(next, `${o.id} ${d} ${extra.note ?? ''}`.trim())];
    return { next, expectedVersion: o.version, response, outbox };
  };

  /**
   * An approval by the request's approver, built the way the delegation service does: `shown` is the customer's
   * active relationship of that kind the approver was shown (null: none), which this one replaces.
   */
  const approval = (
    r: Relationship,
    shown: Relationship | null,
    extra: { responseId?: string; activityId?: string; note?: string } = {},
  ): RelationshipDecision => {
    const at = nowIso();
    const response = relResponse(r, 'approved', {
      at,
      ...(extra.responseId ? { id: extra.responseId } : {}),
      ...(extra.activityId ? { activityId: extra.activityId } : {}),
    });
    const next = approvedRel(r, at, shown ? partnerRef(shown) : undefined);
    const ended = shown ? { next: endedRel(shown, 'replaced', at, partnerRef(r)), expectedVersion: shown.version } : undefined;
    const click = { at, conversationId: response.conversationId, activityId: response.activityId };
    return {
      next,
      expectedVersion: r.version,
      replaces: { expectedActiveId: shown?.id ?? null, ...(ended ? { ended } : {}) },
      responses: [response, ...(shown ? [terminationResponse(shown, 'replaced', r.approver!, click)] : [])],
      outbox: [
        notifyRelIssuer(next, `${r.id} approved ${extra.note ?? ''}`.trim()),
        ...(ended ? [notifyRelIssuer(ended.next, `${ended.next.id} replaced by ${r.id}`)] : []),
      ],
    };
  };
  /** The approver declines the request. */
  const refusal = (r: Relationship, extra: { activityId?: string } = {}): RelationshipDecision => {
    const next = declinedRel(r, nowIso());
    return {
      next,
      expectedVersion: r.version,
      responses: [relResponse(r, 'declined', { at: nowIso(), ...(extra.activityId ? { activityId: extra.activityId } : {}) })],
      outbox: [notifyRelIssuer(next, `${r.id} declined`)],
    };
  };
  /** `by` (the customer's admin or the partner) ends an active relationship. */
  const revocation = (active: Relationship, by: Person): RelationshipDecision => {
    const next = endedRel(active, by.tenantId === active.customerTenantId ? 'revokedByCustomer' : 'revokedByPartner', nowIso());
    return {
      next,
      expectedVersion: active.version,
      responses: [terminationResponse(active, 'revoked', by, { at: nowIso() })],
      outbox: [notifyRelIssuer(next, `${active.id} revoked`)],
    };
  };

  return { harness, clock, nowIso, together, store, decision, approval, refusal, revocation };
}

export type ContractContext = ReturnType<typeof contractContext>;
