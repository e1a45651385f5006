/**
 * The local Microsoft stand-in (stand-in/: Entra's token endpoint, Graph's GDAP routes, the admin center's approval
 * page) that the e2e global setup starts once for the whole run, on a free port, with the tenants `npm run playground`
 * registers (scripts/lib/stand-in.cjs): the sample partners file's connected partners (Fabrikam) with a fresh secret
 * each, and the customer Playground's tenant (Contoso). global-teardown.ts closes it.
 */

/** Where the global setup leaves `E2EStandIn` as JSON for the suites (jest's workers inherit the environment). */
export const STAND_IN_ENV = 'E2E_MICROSOFT_STAND_IN';
/** The global (in the jest process that runs the global setup and teardown) that holds the stand-in's handle. */
export const STAND_IN_HANDLE = '__e2eMicrosoftStandIn';
/** The partners file the stand-in's tenants come from; the e2e bot must be started with it (PARTNERS_FILE). */
export const E2E_PARTNERS_FILE = 'env/partners.sample.json';

export interface E2EStandIn {
  /** `http://127.0.0.1:<port>`: Entra's host, the admin center; Graph is at `<url>/v1.0`. */
  url: string;
  /** MICROSOFT_AUTHORITY_HOST, MICROSOFT_GRAPH_BASE_URL, MICROSOFT_ADMIN_CENTER_URL and each connected partner's secret. */
  botEnv: Record<string, string>;
}

/** The stand-in the global setup started; fails when the suite runs without it (run it with `npm run test:e2e`). */
export function microsoftStandIn(): E2EStandIn {
  const json = process.env[STAND_IN_ENV];
  if (!json) throw new Error(`${STAND_IN_ENV} is not set: the e2e global setup starts the Microsoft stand-in (npm run test:e2e)`);
  return JSON.parse(json) as E2EStandIn;
}

/** A relationship as the stand-in's control route reports it (`GET /_control/relationships/{id}`), in part. */
export interface StandInRelationship {
  id: string;
  status: string;
  partnerTenantId: string;
  graph: { displayName: string; customer: { tenantId: string } | null; activatedDateTime: string | null; endDateTime: string | null };
}

/** What Microsoft (the stand-in) has for the relationship with this Graph id. */
export async function standInRelationship(graphId: string): Promise<StandInRelationship> {
  const res = await fetch(`${microsoftStandIn().url}/_control/relationships/${encodeURIComponent(graphId)}`);
  if (!res.ok) throw new Error(`The stand-in has no relationship ${graphId} (${res.status})`);
  return (await res.json()) as StandInRelationship;
}
