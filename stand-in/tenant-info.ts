/**
 * GET /tenantRelationships/findTenantInformationByTenantId(tenantId='{id}')
 * (https://learn.microsoft.com/en-us/graph/api/tenantrelationship-findtenantinformationbytenantid,
 * resource https://learn.microsoft.com/en-us/graph/api/resources/tenantinformation): display name and default domain
 * of any registered tenant. The answer for an unknown tenant is not documented; the stand-in says 404 itemNotFound.
 */
import { GUID } from './http';
import { methodNotAllowed, notFound, odataBadRequest, type GraphContext } from './graph';

export function handleTenantInformation(ctx: GraphContext): void {
  if (ctx.req.method !== 'GET') throw methodNotAllowed();
  if (ctx.segments.length !== 1) throw odataBadRequest(`Resource not found for the segment '${ctx.segments[1] ?? ''}'.`);
  const m = /^findTenantInformationByTenantId\(tenantId='([^']*)'\)$/i.exec(ctx.segments[0] ?? '');
  if (!m?.[1] || !GUID.test(m[1])) throw odataBadRequest("The function findTenantInformationByTenantId needs tenantId='<GUID>'.");
  const tenant = ctx.world.tenant(m[1]);
  if (!tenant) throw notFound(`The tenant '${m[1]}' was not found.`);
  ctx.send(200, {
    '@odata.context': `${ctx.graphBase}/$metadata#microsoft.graph.tenantInformation`,
    tenantId: tenant.tenantId,
    federationBrandName: tenant.federationBrandName,
    displayName: tenant.displayName,
    defaultDomainName: tenant.defaultDomainName,
  });
}
