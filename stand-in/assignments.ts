/**
 * accessAssignments of a relationship:
 * - create: POST .../delegatedAdminRelationships/{id}/accessAssignments → 201, status `pending`, then `active`
 *   (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-post-accessassignments)
 * - list / get (https://learn.microsoft.com/en-us/graph/api/delegatedadminrelationship-list-accessassignments,
 *   https://learn.microsoft.com/en-us/graph/api/delegatedadminaccessassignment-get)
 * - update: PATCH with If-Match → 202 Accepted, Location of the operation, Retry-After (200 if nothing changes)
 *   (https://learn.microsoft.com/en-us/graph/api/delegatedadminaccessassignment-update)
 * - delete: DELETE with If-Match → 204, status `deleting` then `deleted`
 *   (https://learn.microsoft.com/en-us/graph/api/delegatedadminaccessassignment-delete)
 * Resource: https://learn.microsoft.com/en-us/graph/api/resources/delegatedadminaccessassignment. Undocumented and
 * chosen here: assignments only on an `active` relationship; roles must be among the relationship's; one live
 * assignment per security group; all become `deleted` when the relationship ends.
 */
import { graphDate } from './clock';
import { GUID, newEtag, newGuid } from './http';
import { setAssignmentStatus } from './lifecycle';
import { queryPage } from './odata';
import { badRequest, checkIfMatch, checkProperties, methodNotAllowed, notFound, odataBadRequest, type GraphContext } from './graph';
import { collectionUrl, findRelationship, pageBody, readRoles } from './relationships';
import type { AccessAssignment, Operation, Relationship } from './world';

export function assignmentJson(a: AccessAssignment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.delegatedAdminAccessAssignment',
    '@odata.etag': a.etag,
    id: a.id,
    status: a.status,
    createdDateTime: graphDate(a.createdMs),
    lastModifiedDateTime: graphDate(a.lastModifiedMs),
    accessContainer: { accessContainerId: a.accessContainerId, accessContainerType: a.accessContainerType },
    accessDetails: { unifiedRoles: a.roles.map((roleDefinitionId) => ({ roleDefinitionId })) },
  };
}

export async function handleAssignments(ctx: GraphContext): Promise<void> {
  const [, id = '', , assignmentId, ...extra] = ctx.segments;
  if (extra.length > 0) throw odataBadRequest(`Resource not found for the segment '${extra[0]}'.`);
  const rel = findRelationship(ctx, id);
  const method = ctx.req.method ?? 'GET';
  const base = `${collectionUrl(ctx)}/${rel.id}/accessAssignments`;
  const context = `${ctx.graphBase}/tenantRelationships/$metadata#delegatedAdminRelationships('${rel.id}')/accessAssignments`;
  if (assignmentId === undefined) {
    if (method === 'GET')
      return ctx.send(200, pageBody(context, queryPage(rel.assignments.map(assignmentJson), ctx.url, ctx.world.defaultPageSize)));
    if (method === 'POST') return create(ctx, rel, base, context);
    throw methodNotAllowed();
  }
  const a = rel.assignments.find((x) => x.id === assignmentId.toLowerCase());
  if (!a) throw notFound(`The access assignment '${assignmentId}' was not found.`);
  if (method === 'GET') return ctx.send(200, { '@odata.context': `${context}/$entity`, ...assignmentJson(a) }, { ETag: a.etag });
  if (method === 'PATCH') return update(ctx, rel, a, context);
  if (method === 'DELETE') {
    checkIfMatch(ctx.req, a.etag);
    if (a.status === 'deleting' || a.status === 'deleted') throw badRequest(`The access assignment is already ${a.status}.`);
    setAssignmentStatus(a, 'deleting', ctx.world.clock.ms());
    return ctx.send(204, undefined);
  }
  throw methodNotAllowed();
}

function subsetOfRelationship(rel: Relationship, roles: string[]): void {
  const outside = roles.filter((r) => !rel.roles.includes(r));
  if (outside.length > 0)
    throw badRequest(`The roles ${outside.join(', ')} are not part of the delegated admin relationship the customer approved.`);
}

async function create(ctx: GraphContext, rel: Relationship, base: string, context: string): Promise<void> {
  const body = await ctx.body();
  checkProperties(
    body,
    'delegatedAdminAccessAssignment',
    ['accessContainer', 'accessDetails'],
    ['id', 'status', 'createdDateTime', 'lastModifiedDateTime'],
  );
  const container = body.accessContainer;
  if (container === null || typeof container !== 'object' || Array.isArray(container))
    throw badRequest('The accessContainer property is required.');
  const c = container as Record<string, unknown>;
  checkProperties(c, 'delegatedAdminAccessContainer', ['accessContainerId', 'accessContainerType']);
  // "accessContainerId ... must be a valid ID of a Microsoft Entra security group in the partner's tenant".
  if (typeof c.accessContainerId !== 'string' || !GUID.test(c.accessContainerId))
    throw badRequest('The accessContainerId must be the id (a GUID) of a security group.');
  if (c.accessContainerType !== 'securityGroup') throw badRequest("The accessContainerType must be 'securityGroup'.");
  const details = body.accessDetails;
  if (details === null || typeof details !== 'object' || Array.isArray(details))
    throw badRequest('The accessDetails property is required.');
  checkProperties(details as Record<string, unknown>, 'delegatedAdminAccessDetails', ['unifiedRoles']);
  const roles = readRoles((details as Record<string, unknown>).unifiedRoles);
  if (rel.status !== 'active') throw badRequest(`Access assignments can be created only on an active relationship; it is ${rel.status}.`);
  subsetOfRelationship(rel, roles);
  const containerId = c.accessContainerId.toLowerCase();
  if (rel.assignments.some((x) => x.accessContainerId === containerId && x.status !== 'deleted' && x.status !== 'deleting'))
    throw badRequest(`An access assignment for the security group '${containerId}' already exists on this relationship.`);
  const now = ctx.world.clock.ms();
  const a: AccessAssignment = {
    id: newGuid(),
    accessContainerId: containerId,
    accessContainerType: 'securityGroup',
    roles,
    status: 'pending',
    statusSinceMs: now,
    createdMs: now,
    lastModifiedMs: now,
    etag: newEtag(),
  };
  rel.assignments.push(a);
  ctx.send(201, { '@odata.context': `${context}/$entity`, ...assignmentJson(a) }, { Location: `${base}/${a.id}`, ETag: a.etag });
}

async function update(ctx: GraphContext, rel: Relationship, a: AccessAssignment, context: string): Promise<void> {
  checkIfMatch(ctx.req, a.etag);
  const body = await ctx.body();
  checkProperties(
    body,
    'delegatedAdminAccessAssignment',
    ['accessDetails'],
    ['id', 'status', 'createdDateTime', 'lastModifiedDateTime', 'accessContainer'],
  );
  const details = body.accessDetails;
  if (details === null || typeof details !== 'object' || Array.isArray(details))
    throw badRequest('The accessDetails property is required.');
  const roles = readRoles((details as Record<string, unknown>).unifiedRoles);
  if (a.status !== 'active') throw badRequest(`Only an active access assignment can be updated; it is ${a.status}.`);
  subsetOfRelationship(rel, roles);
  if (roles.length === a.roles.length && roles.every((r) => a.roles.includes(r)))
    return ctx.send(200, { '@odata.context': `${context}/$entity`, ...assignmentJson(a) }, { ETag: a.etag });
  const now = ctx.world.clock.ms();
  const op: Operation = {
    id: newGuid(),
    operationType: 'delegatedAdminAccessAssignmentUpdate',
    status: 'notStarted',
    createdMs: now,
    lastModifiedMs: now,
    etag: newEtag(),
    complete: (at) => {
      a.roles = roles;
      a.lastModifiedMs = at;
      a.etag = newEtag();
    },
    data: () => JSON.stringify(assignmentJson(a)),
  };
  rel.operations.push(op);
  ctx.send(202, {}, { Location: `${collectionUrl(ctx)}/${rel.id}/operations/${op.id}`, 'Retry-After': '10' });
}
