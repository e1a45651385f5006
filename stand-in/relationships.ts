/**
 * delegatedAdminRelationships, their `requests` and `operations`:
 * - create: POST /tenantRelationships/delegatedAdminRelationships
 *   (https://learn.microsoft.com/en-us/graph/api/tenantrelationship-post-delegatedadminrelationships)
 * - list: GET same (https://learn.microsoft.com/en-us/graph/api/tenantrelationship-list-delegatedadminrelationships)
 * - get / update / delete: GET, PATCH, DELETE .../{id}
 *   (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-get, -update, -delete)
 * - requests: POST/GET .../{id}/requests (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-post-requests,
 *   https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationshiprequest)
 * - operations: GET .../{id}/operations[/{operationId}]
 *   (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-list-operations, delegatedadminrelationshipoperation-get)
 * The resource: https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminrelationship
 */
import { graphDate, parseIsoDuration, DAY_MS } from './clock';
import { newEtag, newGuid, GUID } from './http';
import { touch } from './lifecycle';
import { queryPage } from './odata';
import { GLOBAL_ADMINISTRATOR } from './roles';
import { badRequest, checkIfMatch, checkProperties, methodNotAllowed, notFound, odataBadRequest, type GraphContext } from './graph';
import type { Operation, Relationship, RelationshipRequest, World } from './world';

const RELATIONSHIP_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AUTO_EXTEND = ['P0D', 'PT0S', 'P180D'] as const;
const WRITABLE = ['displayName', 'duration', 'customer', 'accessDetails', 'autoExtendDuration'];
const READ_ONLY = ['id', 'status', 'createdDateTime', 'lastModifiedDateTime', 'activatedDateTime', 'endDateTime'];

/** "The ID of the relationship": two GUIDs joined by '-' (the create example's id). */
export const newRelationshipId = (): string => `${newGuid()}-${newGuid()}`;

export function relationshipJson(rel: Relationship): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
    '@odata.etag': rel.etag,
    id: rel.id,
    displayName: rel.displayName,
    duration: rel.duration,
    customer: rel.customer ? { tenantId: rel.customer.tenantId, displayName: rel.customer.displayName } : null,
    accessDetails: { unifiedRoles: rel.roles.map((roleDefinitionId) => ({ roleDefinitionId })) },
    status: rel.status,
    autoExtendDuration: rel.autoExtendDuration,
    createdDateTime: graphDate(rel.createdMs),
    lastModifiedDateTime: graphDate(rel.lastModifiedMs),
    // null until active (the list example); the create example's "" is the other form clients must accept.
    activatedDateTime: rel.activatedMs === null ? null : graphDate(rel.activatedMs),
    endDateTime: rel.endMs === null ? null : graphDate(rel.endMs),
  };
}

function requestJson(r: RelationshipRequest): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.delegatedAdminRelationshipRequest',
    id: r.id,
    action: r.action,
    status: r.status,
    createdDateTime: graphDate(r.createdMs),
    lastModifiedDateTime: graphDate(r.lastModifiedMs),
  };
}

export function operationJson(op: Operation): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.delegatedAdminRelationshipOperation',
    '@odata.etag': op.etag,
    id: op.id,
    operationType: op.operationType,
    data: op.data(),
    status: op.status,
    createdDateTime: graphDate(op.createdMs),
    lastModifiedDateTime: graphDate(op.lastModifiedMs),
  };
}

/** The partner's own relationship, or 400 (malformed id, Graph's wording) / 404. */
export function findRelationship(ctx: GraphContext, id: string): Relationship {
  if (!RELATIONSHIP_ID.test(id)) throw badRequest('The passed in delegatedAdminRelationshipId is invalid.');
  const rel = ctx.world.relationships.get(id.toLowerCase());
  if (!rel || rel.partnerTenantId !== ctx.partner.tenantId) throw notFound(`The delegated admin relationship '${id}' was not found.`);
  return rel;
}

export const collectionUrl = (ctx: GraphContext) => `${ctx.graphBase}/tenantRelationships/delegatedAdminRelationships`;

export async function handleRelationships(ctx: GraphContext): Promise<void> {
  const [, id, sub, subId, ...extra] = ctx.segments;
  const method = ctx.req.method ?? 'GET';
  if (extra.length > 0) throw odataBadRequest(`Resource not found for the segment '${extra[0]}'.`);
  if (id === undefined) {
    if (method === 'GET') return list(ctx);
    if (method === 'POST') return create(ctx);
    throw methodNotAllowed();
  }
  const rel = findRelationship(ctx, id);
  if (sub === undefined) {
    if (method === 'GET') return sendRelationship(ctx, rel, 200, '$entity');
    if (method === 'PATCH') return update(ctx, rel);
    if (method === 'DELETE') return remove(ctx, rel);
    throw methodNotAllowed();
  }
  const base = `${collectionUrl(ctx)}/${rel.id}`;
  switch (sub.toLowerCase()) {
    case 'requests': {
      if (subId === undefined) {
        if (method === 'POST') return postRequest(ctx, rel, base);
        if (method !== 'GET') throw methodNotAllowed();
        const page = queryPage(rel.requests.map(requestJson), ctx.url, ctx.world.defaultPageSize);
        return ctx.send(
          200,
          pageBody(`${ctx.graphBase}/tenantRelationships/$metadata#delegatedAdminRelationships('${rel.id}')/requests`, page),
        );
      }
      if (method !== 'GET') throw methodNotAllowed();
      const r = rel.requests.find((x) => x.id === subId.toLowerCase());
      if (!r) throw notFound(`The request '${subId}' was not found.`);
      return ctx.send(200, { '@odata.context': `${ctx.graphBase}/tenantRelationships/$metadata#requests/$entity`, ...requestJson(r) });
    }
    case 'operations': {
      if (method !== 'GET') throw methodNotAllowed();
      if (subId === undefined) {
        const page = queryPage(rel.operations.map(operationJson), ctx.url, ctx.world.defaultPageSize);
        return ctx.send(
          200,
          pageBody(`${ctx.graphBase}/tenantRelationships/$metadata#delegatedAdminRelationships('${rel.id}')/operations`, page),
        );
      }
      const op = rel.operations.find((x) => x.id === subId.toLowerCase());
      if (!op) throw notFound(`The operation '${subId}' was not found.`);
      return ctx.send(
        200,
        { '@odata.context': `${ctx.graphBase}/tenantRelationships/$metadata#operations/$entity`, ...operationJson(op) },
        { ETag: op.etag },
      );
    }
    default:
      throw odataBadRequest(`Resource not found for the segment '${sub}'.`);
  }
}

export function pageBody(context: string, page: { value: unknown[]; nextLink?: string; count?: number }): Record<string, unknown> {
  return {
    '@odata.context': context,
    ...(page.count === undefined ? {} : { '@odata.count': page.count }),
    ...(page.nextLink === undefined ? {} : { '@odata.nextLink': page.nextLink }),
    value: page.value,
  };
}

function list(ctx: GraphContext): void {
  const rows = [...ctx.world.relationships.values()]
    .filter((r) => r.partnerTenantId === ctx.partner.tenantId)
    .sort((a, b) => a.createdMs - b.createdMs)
    .map(relationshipJson);
  const page = queryPage(rows, ctx.url, ctx.world.defaultPageSize);
  ctx.send(200, pageBody(`${ctx.graphBase}/tenantRelationships/$metadata#delegatedAdminRelationships`, page));
}

function sendRelationship(
  ctx: GraphContext,
  rel: Relationship,
  status: number,
  entity: '$entity' | '',
  headers: Record<string, string> = {},
): void {
  const select = ctx.url.searchParams.get('$select');
  let body = relationshipJson(rel);
  if (select !== null && status === 200) {
    const wanted = new Set(select.split(',').map((s) => s.trim().toLowerCase()));
    body = Object.fromEntries(Object.entries(body).filter(([k]) => k.startsWith('@odata.') || k === 'id' || wanted.has(k.toLowerCase())));
  }
  const context = `${ctx.graphBase}/tenantRelationships/$metadata#delegatedAdminRelationships${entity ? `/${entity}` : ''}`;
  ctx.send(status, { '@odata.context': context, ...body }, { ETag: rel.etag, ...headers });
}

interface Fields {
  displayName?: string;
  duration?: string;
  durationMs?: number;
  customer?: { tenantId: string; displayName: string | null } | null;
  roles?: string[];
  autoExtendDuration?: (typeof AUTO_EXTEND)[number];
}

/** Check the writable properties present in `body`, as the create and update pages document them. */
function readFields(ctx: GraphContext, body: Record<string, unknown>, self?: Relationship): Fields {
  checkProperties(body, 'delegatedAdminRelationship', WRITABLE, READ_ONLY);
  const f: Fields = {};
  if ('displayName' in body) {
    const name = body.displayName;
    if (typeof name !== 'string' || name.trim() === '') throw badRequest('The displayName is required.');
    // "Maximum length is 50 characters" (create page, displayName).
    if ([...name].length > 50) throw badRequest('The displayName can be at most 50 characters long.');
    // "Must be unique across all delegated admin relationships of the partner" (the exact error is not documented).
    const taken = [...ctx.world.relationships.values()].some(
      (r) => r !== self && r.partnerTenantId === ctx.partner.tenantId && r.displayName.toLowerCase() === name.toLowerCase(),
    );
    if (taken) throw badRequest(`A delegated admin relationship with the displayName '${name}' already exists.`);
    f.displayName = name;
  }
  if ('duration' in body) {
    const duration = body.duration;
    const ms = typeof duration === 'string' ? parseIsoDuration(duration) : undefined;
    if (typeof duration !== 'string' || ms === undefined)
      throw badRequest(`The duration '${String(duration)}' is not a valid ISO 8601 duration.`);
    // "Must be a value between P1D and P2Y inclusive" (create page, duration).
    if (ms < DAY_MS || ms > 730 * DAY_MS) throw badRequest('The duration must be between P1D and P2Y inclusive.');
    f.duration = duration;
    f.durationMs = ms;
  }
  if ('customer' in body) {
    const c = body.customer;
    if (c === null) f.customer = null;
    else {
      if (typeof c !== 'object' || Array.isArray(c)) throw badRequest('The customer must be an object with a tenantId.');
      const customer = c as Record<string, unknown>;
      checkProperties(customer, 'delegatedAdminRelationshipCustomerParticipant', ['tenantId', 'displayName']);
      if (typeof customer.tenantId !== 'string' || !GUID.test(customer.tenantId)) throw badRequest('The customer tenantId must be a GUID.');
      if (customer.tenantId.toLowerCase() === ctx.partner.tenantId)
        throw badRequest("The customer tenantId cannot be the partner's own tenant.");
      // customer.displayName is "Read-only" ("as set by Microsoft Entra ID"): the registered tenant's name wins.
      const known = ctx.world.tenant(customer.tenantId);
      const given = typeof customer.displayName === 'string' ? customer.displayName : null;
      f.customer = { tenantId: customer.tenantId.toLowerCase(), displayName: known?.displayName ?? given };
    }
  }
  if ('accessDetails' in body) {
    const details = body.accessDetails;
    if (details === null || typeof details !== 'object' || Array.isArray(details))
      throw badRequest('The accessDetails must contain unifiedRoles.');
    checkProperties(details as Record<string, unknown>, 'delegatedAdminAccessDetails', ['unifiedRoles']);
    f.roles = readRoles((details as Record<string, unknown>).unifiedRoles);
  }
  if ('autoExtendDuration' in body) {
    const v = body.autoExtendDuration;
    // "Supported values are: P0D, PT0S, P180D" (create page, autoExtendDuration).
    if (typeof v !== 'string' || !(AUTO_EXTEND as readonly string[]).includes(v))
      throw badRequest(`The autoExtendDuration '${String(v)}' is not supported. Supported values are: P0D, PT0S, P180D.`);
    f.autoExtendDuration = v as Fields['autoExtendDuration'];
  }
  return f;
}

/** unifiedRoles: a non-empty list of `{ roleDefinitionId: <Entra role template id> }`, no repeats. */
export function readRoles(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw badRequest('The accessDetails must contain at least one unifiedRole.');
  const roles = value.map((r: unknown) => {
    const id = r !== null && typeof r === 'object' ? (r as Record<string, unknown>).roleDefinitionId : undefined;
    if (typeof id !== 'string' || !GUID.test(id))
      throw badRequest('Each unifiedRole needs a roleDefinitionId that is a role template id (a GUID).');
    return id.toLowerCase();
  });
  if (new Set(roles).size !== roles.length) throw badRequest('The unifiedRoles contain the same roleDefinitionId more than once.');
  return roles;
}

/**
 * "Don't autoextend GDAP with Global Administrator" (Partner Center, expiring GDAP relationships and auto-extend):
 * the stand-in refuses the combination with a 400; Microsoft's exact error text is not documented.
 */
function checkGlobalAdministratorRule(roles: string[], autoExtend: string): void {
  if (autoExtend === 'P180D' && roles.includes(GLOBAL_ADMINISTRATOR))
    throw badRequest(
      'A relationship that includes the Global Administrator role cannot be automatically extended. Set autoExtendDuration to PT0S.',
    );
}

async function create(ctx: GraphContext): Promise<void> {
  const body = await ctx.body();
  for (const required of ['displayName', 'duration', 'accessDetails'] as const)
    if (!(required in body)) throw badRequest(`The ${required} property is required.`);
  const f = readFields(ctx, body);
  const roles = f.roles ?? [];
  const autoExtendDuration = f.autoExtendDuration ?? 'PT0S';
  checkGlobalAdministratorRule(roles, autoExtendDuration);
  const now = ctx.world.clock.ms();
  const rel: Relationship = {
    id: newRelationshipId(),
    partnerTenantId: ctx.partner.tenantId,
    displayName: f.displayName ?? '',
    duration: f.duration ?? '',
    durationMs: f.durationMs ?? 0,
    customer: f.customer ?? null,
    roles,
    autoExtendDuration,
    status: 'created',
    statusSinceMs: now,
    createdMs: now,
    lastModifiedMs: now,
    activatedMs: null,
    endMs: null,
    etag: newEtag(),
    lockRequestedMs: null,
    approvalPendingSinceMs: null,
    declinedMs: null,
    approvedByTenantId: null,
    terminationRequestedBy: null,
    forceExpiry: false,
    requests: [],
    assignments: [],
    operations: [],
  };
  ctx.world.relationships.set(rel.id, rel);
  sendRelationship(ctx, rel, 201, '', { Location: `${collectionUrl(ctx)}/${rel.id}` });
}

/**
 * PATCH: "You can update this relationship when its status property is created"; "You can update the
 * autoExtendDuration property when status is either created or active"; "You can only remove the Microsoft Entra
 * Global Administrator role when the status property is active, which indicates a long-running operation" (202 with
 * Location of the operation and Retry-After).
 */
async function update(ctx: GraphContext, rel: Relationship): Promise<void> {
  checkIfMatch(ctx.req, rel.etag);
  const body = await ctx.body();
  const now = ctx.world.clock.ms();
  if (rel.status === 'created') {
    const f = readFields(ctx, body, rel);
    checkGlobalAdministratorRule(f.roles ?? rel.roles, f.autoExtendDuration ?? rel.autoExtendDuration);
    if (f.displayName !== undefined) rel.displayName = f.displayName;
    if (f.duration !== undefined && f.durationMs !== undefined) {
      rel.duration = f.duration;
      rel.durationMs = f.durationMs;
    }
    if (f.customer !== undefined) rel.customer = f.customer;
    if (f.roles !== undefined) rel.roles = f.roles;
    if (f.autoExtendDuration !== undefined) rel.autoExtendDuration = f.autoExtendDuration;
    touch(rel, now);
    return sendRelationship(ctx, rel, 200, '$entity');
  }
  if (rel.status !== 'active')
    throw badRequest(
      `The relationship can be updated only while its status is created (or active, for autoExtendDuration); it is ${rel.status}.`,
    );
  const other = Object.keys(body).filter((k) => !k.startsWith('@odata.') && k !== 'autoExtendDuration' && k !== 'accessDetails');
  if (other.length > 0)
    throw badRequest(
      `While the relationship is active only autoExtendDuration can be updated (and Global Administrator removed); not ${other.join(', ')}.`,
    );
  const f = readFields(ctx, body, rel);
  if (f.roles !== undefined) {
    const removed = rel.roles.filter((r) => !f.roles?.includes(r));
    const added = (f.roles ?? []).filter((r) => !rel.roles.includes(r));
    if (added.length > 0 || (removed.length > 0 && (removed.length !== 1 || removed[0] !== GLOBAL_ADMINISTRATOR)))
      throw badRequest(
        'While the relationship is active, the only change to accessDetails allowed is removing the Global Administrator role.',
      );
  }
  const autoExtend = f.autoExtendDuration ?? rel.autoExtendDuration;
  if (f.roles !== undefined && f.roles.length !== rel.roles.length) {
    const roles = f.roles;
    checkGlobalAdministratorRule(roles, autoExtend);
    const op: Operation = {
      id: newGuid(),
      operationType: 'delegatedAdminRelationshipUpdate',
      status: 'notStarted',
      createdMs: now,
      lastModifiedMs: now,
      etag: newEtag(),
      complete: (at) => {
        rel.roles = roles;
        rel.autoExtendDuration = autoExtend;
        touch(rel, at);
      },
      data: () => JSON.stringify(relationshipJson(rel)),
    };
    rel.operations.push(op);
    return ctx.send(202, undefined, { Location: `${collectionUrl(ctx)}/${rel.id}/operations/${op.id}`, 'Retry-After': '10' });
  }
  checkGlobalAdministratorRule(rel.roles, autoExtend);
  if (f.autoExtendDuration !== undefined && f.autoExtendDuration !== rel.autoExtendDuration) {
    rel.autoExtendDuration = f.autoExtendDuration;
    touch(rel, now);
  }
  return sendRelationship(ctx, rel, 200, '$entity');
}

/** DELETE: "A relationship can only be deleted if it's in the created status" → 204. */
function remove(ctx: GraphContext, rel: Relationship): void {
  checkIfMatch(ctx.req, rel.etag);
  if (rel.status !== 'created') throw badRequest(`A relationship can only be deleted if it's in the created status; it is ${rel.status}.`);
  ctx.world.relationships.delete(rel.id);
  ctx.send(204, undefined);
}

/**
 * "For a partner to finalize a relationship in the created status, set the action to lockForApproval. For a partner
 * to terminate a relationship in the active status, set the action to terminate." `approve`/`reject` are for
 * indirect resellers only. 201 Created with Location of the request; the relationship moves asynchronously.
 */
async function postRequest(ctx: GraphContext, rel: Relationship, base: string): Promise<void> {
  const body = await ctx.body();
  checkProperties(body, 'delegatedAdminRelationshipRequest', ['action'], ['id', 'status', 'createdDateTime', 'lastModifiedDateTime']);
  const action = body.action;
  if (action !== 'lockForApproval' && action !== 'terminate') {
    if (action === 'approve' || action === 'reject')
      throw badRequest(`The action '${action}' is available only to indirect resellers on a relationship an indirect provider created.`);
    throw badRequest(`The action '${String(action)}' is not valid. Use lockForApproval or terminate.`);
  }
  const now = ctx.world.clock.ms();
  if (action === 'lockForApproval') {
    if (rel.status !== 'created' || rel.lockRequestedMs !== null)
      throw badRequest(`Only a relationship in the created status can be locked for approval; it is ${rel.status}.`);
    rel.lockRequestedMs = now;
  } else {
    if (rel.status !== 'active') throw badRequest(`Only an active relationship can be terminated; it is ${rel.status}.`);
    requestTermination(ctx.world, rel, 'partner', now);
  }
  const request: RelationshipRequest = { id: newGuid(), action, status: 'created', createdMs: now, lastModifiedMs: now };
  rel.requests.push(request);
  ctx.send(
    201,
    { '@odata.context': `${ctx.graphBase}/tenantRelationships/$metadata#requests/$entity`, ...requestJson(request) },
    { Location: `${base}/requests/${request.id}` },
  );
}

export function requestTermination(_world: World, rel: Relationship, by: 'partner' | 'customer', now: number): void {
  rel.status = 'terminationRequested';
  rel.statusSinceMs = now;
  rel.terminationRequestedBy = by;
  touch(rel, now);
}
