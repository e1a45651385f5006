/**
 * The control surface: what happens on Microsoft's side outside Graph (the customer's Global Administrator approves,
 * someone terminates from the admin center or Partner Center, time passes, a customer accepts a reseller relationship,
 * the catalog changes, checkout fails) and faults. The same operations are a
 * TypeScript API (`standIn.control`) and JSON routes under `/_control/` (see stand-in/README.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { graphDate } from './clock';
import { readBody, sendJson } from './http';
import { progress, progressAll, setStatus } from './lifecycle';
import { assignmentJson } from './assignments';
import { relationshipJson, requestTermination } from './relationships';
import type { Faults } from './faults';
import { resellerInvitationLink } from './partner-center';
import { cartJson, orderJson, subscriptionJson } from './pc-commerce';
import type { PartnerCenterState } from './pc-state';
import type { Fault, FaultSpec, RelationshipSnapshot, RequestLogEntry, StandInControl } from './types';
import type { Relationship, World } from './world';
import type { Clock } from './clock';

/** A control call that cannot be done as asked; `status` is what the HTTP route answers. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ControlApi = StandInControl;

export function snapshot(rel: Relationship): RelationshipSnapshot {
  return {
    graph: relationshipJson(rel),
    id: rel.id,
    status: rel.status,
    partnerTenantId: rel.partnerTenantId,
    declinedDateTime: rel.declinedMs === null ? null : graphDate(rel.declinedMs),
    terminationRequestedBy: rel.terminationRequestedBy,
    approvedByTenantId: rel.approvedByTenantId,
    accessAssignments: rel.assignments.map(assignmentJson),
  };
}

export function createControl(world: World, faults: Faults, log: { entries: RequestLogEntry[] }, pc: PartnerCenterState): ControlApi {
  const clock = world.clock;
  const get = (id: string): Relationship => {
    progressAll(world);
    const rel = world.relationships.get(id.toLowerCase());
    if (!rel) throw new ControlError(404, `No relationship ${id}`);
    return rel;
  };
  /** The tenant whose Global Administrator acts: the pinned customer, or the one named for an open relationship. */
  const actingCustomer = (rel: Relationship, tenantId: string | undefined, verb: string) => {
    const pinned = rel.customer?.tenantId;
    const id = (tenantId ?? pinned)?.toLowerCase();
    if (!id) throw new ControlError(400, `This request is open to any customer: say whose Global Administrator ${verb}s it (tenantId).`);
    const tenant = world.tenant(id);
    if (pinned && id !== pinned)
      throw new ControlError(
        403,
        `Only a Global Administrator of ${world.tenant(pinned)?.displayName ?? pinned} can ${verb} this request.`,
      );
    if (!tenant || tenant.kind !== 'customer') throw new ControlError(400, `${id} is not a registered customer tenant.`);
    return tenant;
  };
  const pendingOnly = (rel: Relationship, verb: string) => {
    if (rel.status !== 'approvalPending')
      throw new ControlError(409, `The relationship is ${rel.status}; only an approvalPending request can be ${verb}d.`);
  };

  return {
    clock,
    registerPartner: (input) => world.registerPartner(input),
    registerApp: (tenantId, app) => world.registerApp(tenantId, app),
    registerCustomer: (input) => world.registerCustomer(input),
    approve(id, opts = {}) {
      const rel = get(id);
      pendingOnly(rel, 'approve');
      const tenant = actingCustomer(rel, opts.tenantId, 'approve');
      rel.customer = { tenantId: tenant.tenantId, displayName: tenant.displayName };
      rel.approvedByTenantId = tenant.tenantId;
      setStatus(rel, 'approved', clock.ms());
      return snapshot(rel);
    },
    decline(id, opts = {}) {
      const rel = get(id);
      pendingOnly(rel, 'decline');
      actingCustomer(rel, opts.tenantId, 'decline');
      // Graph has no declined status: the relationship stays approvalPending until it expires.
      rel.declinedMs = clock.ms();
      return snapshot(rel);
    },
    terminate(id, opts = {}) {
      const rel = get(id);
      if (rel.status !== 'active')
        throw new ControlError(409, `The relationship is ${rel.status}; only an active relationship can be terminated.`);
      requestTermination(world, rel, opts.by ?? 'customer', clock.ms());
      return snapshot(rel);
    },
    expire(id) {
      const rel = get(id);
      const now = clock.ms();
      if (rel.status === 'approvalPending') setStatus(rel, 'expired', now);
      else if (rel.status === 'active') {
        rel.forceExpiry = true;
        rel.endMs = now;
        progress(world, rel, now, true);
      } else throw new ControlError(409, `The relationship is ${rel.status}; only an approvalPending or active one can expire.`);
      return snapshot(rel);
    },
    settle: () => progressAll(world, true),
    relationship(id) {
      progressAll(world);
      const rel = world.relationships.get(id.toLowerCase());
      return rel && snapshot(rel);
    },
    relationships() {
      progressAll(world);
      return [...world.relationships.values()].sort((a, b) => a.createdMs - b.createdMs).map(snapshot);
    },
    fault: (spec) => faults.add(spec),
    removeFault: (id) => faults.remove(id),
    clearFaults: () => faults.clear(),
    faults: () => faults.all(),
    tokenEndpointDown(opts = {}) {
      faults.removeWhere((f) => f.target === 'token' && f.remaining === 'always');
      const spec: FaultSpec = { kind: opts.mode === 'reset' ? 'reset' : 'error', target: 'token', times: 'always' };
      if (opts.status !== undefined) spec.status = opts.status;
      if (opts.retryAfterSeconds !== undefined) spec.retryAfterSeconds = opts.retryAfterSeconds;
      return faults.add(spec);
    },
    tokenEndpointUp: () => faults.removeWhere((f) => f.target === 'token'),
    expireTokens() {
      for (const t of world.tokens.values()) t.expiresAtRealMs = 0;
    },
    clearRequests() {
      log.entries.length = 0;
    },
    acceptResellerRelationship(partnerTenantId, customerTenantId) {
      const partner = world.tenant(partnerTenantId);
      const customer = world.tenant(customerTenantId);
      if (partner?.kind !== 'partner') throw new ControlError(400, `${partnerTenantId} is not a registered partner tenant.`);
      if (customer?.kind !== 'customer') throw new ControlError(400, `${customerTenantId} is not a registered customer tenant.`);
      pc.addReseller(partner.tenantId, customer.tenantId);
    },
    endResellerRelationship: (partnerTenantId, customerTenantId) => pc.removeReseller(partnerTenantId, customerTenantId),
    resellerInvitationLink(partnerTenantId) {
      const partner = world.tenant(partnerTenantId);
      if (partner?.kind !== 'partner') throw new ControlError(404, `${partnerTenantId} is not a registered partner tenant.`);
      return resellerInvitationLink(partner.tenantId);
    },
    addProduct: (product) => pc.addProduct(product),
    setSkuAvailability: (productId, skuId, country, available) => pc.setSkuAvailability(productId, skuId, country, available),
    checkoutFault: (spec) => faults.add({ ...spec, target: 'partnercenter', method: 'POST', path: /\/carts\/[^/]+\/checkout\/?$/i }),
    orderErrorOnCheckout(opts) {
      const times = opts.times ?? 1;
      if (times !== 'always' && (!Number.isInteger(times) || times < 1))
        throw new ControlError(400, 'times is a positive integer or "always"');
      pc.orderErrors.push({ code: opts.code, description: opts.description, remaining: times });
    },
    clearOrderErrors() {
      pc.orderErrors = [];
    },
    partnerCenter() {
      return {
        resellers: [...pc.resellers].map((key) => {
          const [partnerTenantId = '', customerTenantId = ''] = key.split('|');
          return { partnerTenantId, customerTenantId };
        }),
        carts: [...pc.carts.values()].map((c) => ({
          id: c.id,
          partnerTenantId: c.partnerTenantId,
          customerTenantId: c.customerTenantId,
          status: c.status,
          orderingCheckouts: c.orderingCheckouts,
          json: cartJson(c),
        })),
        orders: [...pc.orders.values()].map((o) => orderJson(world, o)),
        subscriptions: [...pc.subscriptions.values()].map(subscriptionJson),
      };
    },
  };
}

const partnerBody = z.object({
  tenantId: z.string().min(1),
  displayName: z.string().min(1),
  defaultDomainName: z.string().min(1).optional(),
  app: z.lazy(() => appBody).optional(),
});
const appBody = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1).optional(),
  certificate: z
    .object({ thumbprintSha256: z.string().optional(), thumbprint: z.string().optional(), publicKey: z.string().min(1) })
    .optional(),
  permissions: z.array(z.string()).optional(),
});
const customerBody = z.object({
  tenantId: z.string().min(1),
  displayName: z.string().min(1),
  defaultDomainName: z.string().min(1).optional(),
  federationBrandName: z.string().nullable().optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/)
    .optional(),
});
const termBody = z.object({ duration: z.string().min(1), billingCycle: z.string().min(1), description: z.string().optional() });
const productBody = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  description: z.string().optional(),
  skus: z
    .array(
      z.object({
        id: z.string().min(1),
        title: z.string().min(1),
        description: z.string().optional(),
        isTrial: z.boolean().optional(),
        minimumQuantity: z.number().int().positive().optional(),
        maximumQuantity: z.number().int().positive().optional(),
        availabilityId: z.string().min(1).optional(),
        countries: z.array(z.string().regex(/^[A-Za-z]{2}$/)).optional(),
        terms: z.array(termBody).optional(),
      }),
    )
    .optional(),
});
const resellerBody = z.object({ partnerTenantId: z.string().min(1), customerTenantId: z.string().min(1) });
const skuAvailabilityBody = z.object({ country: z.string().regex(/^[A-Za-z]{2}$/), available: z.boolean() });
const checkoutFaultBody = z.object({
  kind: z.enum(['throttle', 'error', 'hang', 'delay', 'drop', 'reset']),
  times: z.union([z.number().int().positive(), z.literal('always')]).optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  status: z.number().int().min(500).max(599).optional(),
  delayMs: z.number().nonnegative().optional(),
  afterProcessing: z.boolean().optional(),
});
const orderErrorBody = z.object({
  code: z.number().int(),
  description: z.string().min(1),
  times: z.union([z.number().int().positive(), z.literal('always')]).optional(),
});
const faultBody = z.object({
  kind: z.enum(['throttle', 'error', 'hang', 'delay', 'drop', 'reset']),
  target: z.enum(['graph', 'token', 'admin', 'partnercenter', 'any']).optional(),
  times: z.union([z.number().int().positive(), z.literal('always')]).optional(),
  method: z.string().optional(),
  path: z.string().optional(),
  pathRegex: z.string().optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  status: z.number().int().min(500).max(599).optional(),
  delayMs: z.number().nonnegative().optional(),
  afterProcessing: z.boolean().optional(),
});
const clockBody = z.object({
  set: z.string().optional(),
  advance: z.union([z.number().nonnegative(), z.string()]).optional(),
  freeze: z.boolean().optional(),
});
const tenantBody = z.object({ tenantId: z.string().optional() });
const terminateBody = z.object({ by: z.enum(['customer', 'partner']).optional() });
const tokenEndpointBody = z.object({
  down: z.boolean(),
  mode: z.enum(['error', 'reset']).optional(),
  status: z.number().int().min(500).max(599).optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
});

/** Drop undefined-valued keys (zod keeps them) so optional properties stay absent under exactOptionalPropertyTypes-style checks. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function faultSummary(f: Fault): Record<string, unknown> {
  const { path, ...rest } = f.spec;
  return {
    id: f.id,
    kind: f.kind,
    target: f.target,
    remaining: f.remaining,
    spec: { ...rest, ...(path === undefined ? {} : { path: String(path) }) },
  };
}

/** `/_control/...` JSON routes over the same API. */
export async function handleControl(
  control: ControlApi,
  world: World,
  log: { entries: RequestLogEntry[] },
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean).slice(1);
  const json = async <T>(schema: z.ZodType<T>): Promise<T> => {
    const text = await readBody(req);
    let raw: unknown;
    try {
      raw = text.trim() ? JSON.parse(text) : {};
    } catch {
      throw new ControlError(400, 'The body is not JSON.');
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success)
      throw new ControlError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    return parsed.data;
  };
  const ok = (body: unknown) => sendJson(res, 200, body);
  const clock: Clock = world.clock;
  try {
    const [a, b, c] = parts;
    if (method === 'GET' && a === 'state') {
      return ok({
        now: clock.now().toISOString(),
        clockFrozen: clock.isFrozen(),
        tenants: [...world.tenants.values()],
        apps: [...world.apps.values()].map((app) => ({
          tenantId: app.tenantId,
          clientId: app.clientId,
          permissions: app.permissions,
          secret: !!app.clientSecret,
          certificate: !!app.certificate,
        })),
        relationships: control.relationships(),
        partnerCenter: control.partnerCenter(),
        faults: control.faults().map(faultSummary),
      });
    }
    if (a === 'partner-center') {
      const [, , , d, e, f, g] = parts;
      if (method === 'GET' && !b) return ok(control.partnerCenter());
      if (b === 'reseller-relationships' && !c) {
        const { partnerTenantId, customerTenantId } = await json(resellerBody);
        if (method === 'POST') return ok((control.acceptResellerRelationship(partnerTenantId, customerTenantId), { accepted: true }));
        if (method === 'DELETE') return ok((control.endResellerRelationship(partnerTenantId, customerTenantId), { ended: true }));
      }
      if (method === 'GET' && b === 'invitation-link' && c) return ok({ url: control.resellerInvitationLink(c) });
      if (method === 'POST' && b === 'products' && !c) return ok((control.addProduct(defined(await json(productBody))), { added: true }));
      if (method === 'POST' && b === 'products' && c && d === 'skus' && e && f === 'availability' && !g) {
        const { country, available } = await json(skuAvailabilityBody);
        return ok((control.setSkuAvailability(c, e, country, available), { productId: c, skuId: e, country, available }));
      }
      if (method === 'POST' && b === 'checkout-fault' && !c)
        return ok(faultSummary(control.checkoutFault(defined(await json(checkoutFaultBody)))));
      if (b === 'order-errors' && !c) {
        if (method === 'POST') return ok((control.orderErrorOnCheckout(defined(await json(orderErrorBody))), { armed: true }));
        if (method === 'DELETE') return ok((control.clearOrderErrors(), { cleared: true }));
      }
    }
    if (method === 'POST' && a === 'partners' && !b)
      return ok((control.registerPartner(defined(await json(partnerBody))), { registered: true }));
    if (method === 'POST' && a === 'partners' && b && c === 'apps')
      return ok((control.registerApp(b, defined(await json(appBody))), { registered: true }));
    if (method === 'POST' && a === 'customers')
      return ok((control.registerCustomer(defined(await json(customerBody))), { registered: true }));
    if (a === 'relationships') {
      if (method === 'GET' && !b) return ok({ value: control.relationships() });
      if (!b) throw new ControlError(405, 'Use GET /_control/relationships');
      if (method === 'GET' && !c) {
        const snap = control.relationship(b);
        if (!snap) throw new ControlError(404, `No relationship ${b}`);
        return ok(snap);
      }
      if (method === 'POST' && c === 'approve') return ok(control.approve(b, defined(await json(tenantBody))));
      if (method === 'POST' && c === 'decline') return ok(control.decline(b, defined(await json(tenantBody))));
      if (method === 'POST' && c === 'terminate') return ok(control.terminate(b, defined(await json(terminateBody))));
      if (method === 'POST' && c === 'expire') return ok(control.expire(b));
    }
    if (method === 'POST' && a === 'settle') return ok((control.settle(), { settled: true }));
    if (a === 'clock') {
      if (method === 'POST') {
        const body = await json(clockBody);
        // Frozen first, so the instant set or reached is exactly the one held (no millisecond passes in between).
        if (body.freeze === true) clock.freeze();
        if (body.set !== undefined) clock.set(body.set);
        if (body.advance !== undefined) clock.advance(body.advance);
        if (body.freeze === false) clock.unfreeze();
      } else if (method !== 'GET') throw new ControlError(405, 'GET or POST /_control/clock');
      progressAll(world);
      return ok({ now: clock.now().toISOString(), frozen: clock.isFrozen() });
    }
    if (a === 'faults') {
      if (method === 'GET') return ok({ value: control.faults().map(faultSummary) });
      if (method === 'POST') {
        const { pathRegex, ...spec } = defined(await json(faultBody));
        return ok(faultSummary(control.fault(pathRegex === undefined ? spec : { ...spec, path: new RegExp(pathRegex) })));
      }
      if (method === 'DELETE' && b) return ok((control.removeFault(b), { removed: b }));
      if (method === 'DELETE') return ok((control.clearFaults(), { cleared: true }));
    }
    if (method === 'POST' && a === 'token-endpoint') {
      const { down, ...opts } = defined(await json(tokenEndpointBody));
      if (down) return ok(faultSummary(control.tokenEndpointDown(opts)));
      return ok((control.tokenEndpointUp(), { down: false }));
    }
    if (method === 'POST' && a === 'tokens' && b === 'expire') return ok((control.expireTokens(), { expired: true }));
    if (a === 'requests') {
      if (method === 'GET') return ok({ value: log.entries.map((e) => ({ ...e })) });
      if (method === 'DELETE') return ok((control.clearRequests(), { cleared: true }));
    }
    throw new ControlError(404, `No control route ${method} ${url.pathname}`);
  } catch (e) {
    if (e instanceof ControlError) return sendJson(res, e.status, { error: e.message });
    if (e instanceof Error) return sendJson(res, 400, { error: e.message });
    throw e;
  }
}
