import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/log';
import { loadCatalog, type Catalog } from '../../src/directory/catalog';
import { startMicrosoftStandIn, type MicrosoftStandIn, type PartnerCenterProductInput } from '../../stand-in';
import { CUSTOMER_TENANT, NORTHWIND_TENANT, PARTNER_TENANT } from './people';
import { startTestBot, type TestBot } from './test-bot';

/** The Entra apps the partners connect, as env/partners.sample.json and the stand-in know them. */
export const FABRIKAM_APP = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
export const NORTHWIND_APP = '2d4e6f80-1a3b-4c5d-8e9f-0a1b2c3d4e5f';
/** Stand-in secrets, handed to the bot as its environment: never written to a file. */
export const SECRETS = {
  FABRIKAM_GRAPH_CLIENT_SECRET: 'fabrikam-stand-in-secret-7Qx9',
  NORTHWIND_GRAPH_CLIENT_SECRET: 'northwind-stand-in-secret-4Kp2',
};
export const EXCHANGE_ADMIN_ROLE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
/** Fabrikam's security group for Exchange, User and Helpdesk Administrator (env/partners.sample.json). */
export const FABRIKAM_EXCHANGE_GROUP = '0c4f7a2e-5b1d-4e8a-9f3c-2d6b8a1e4f70';
export const NORTHWIND_GROUP = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

/**
 * Microsoft on this machine: the stand-in (Entra's token endpoint, Graph, the admin center) with Fabrikam's and
 * Northwind's tenants and apps and the customer Contoso, its clock frozen at the bot's start, and a partners file in
 * which both partners are connected. `start` runs a bot against it (again on the same data folder for a restart).
 */
export async function startMicrosoft(
  o: {
    connectNorthwind?: boolean;
    now?: Date;
    /**
     * Fabrikam connects its Partner Center app too, and Partner Center sells the catalog's services (each with its
     * Partner Center ids) in the US and GB. `resellerOf` lists the customers that already buy through Fabrikam.
     */
    partnerCenter?: { resellerOf?: string[] };
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'microsoft-'));
  const sample = JSON.parse(readFileSync('env/partners.sample.json', 'utf8')) as { partners: Record<string, unknown>[] };
  const fabrikam = sample.partners.find((p) => p.tenantId === PARTNER_TENANT)!;
  fabrikam.microsoft = {
    clientId: FABRIKAM_APP,
    clientSecretEnv: 'FABRIKAM_GRAPH_CLIENT_SECRET',
    securityGroups: [
      { groupId: FABRIKAM_EXCHANGE_GROUP, roles: ['Exchange Administrator', 'User Administrator', 'Helpdesk Administrator'] },
      { groupId: '7e9b3c1d-2a4f-4b6e-8d0c-5f1a3e7b9c2d', roles: ['Global Reader'] },
    ],
  };
  const northwind = sample.partners.find((p) => p.tenantId === NORTHWIND_TENANT)!;
  if (o.connectNorthwind === false) delete northwind.microsoft;
  else {
    northwind.microsoft = {
      clientId: NORTHWIND_APP,
      clientSecretEnv: 'NORTHWIND_GRAPH_CLIENT_SECRET',
      securityGroups: [{ groupId: NORTHWIND_GROUP, roles: ['Helpdesk Administrator'] }],
    };
  }
  // The sample connects Fabrikam to Partner Center too; here only the tests about orders do.
  if (o.partnerCenter) fabrikam.partnerCenter = { clientId: FABRIKAM_APP, clientSecretEnv: 'FABRIKAM_GRAPH_CLIENT_SECRET' };
  else delete fabrikam.partnerCenter;
  const partnersFile = join(dir, 'partners.json');
  writeFileSync(partnersFile, JSON.stringify(sample));

  const ms: MicrosoftStandIn = await startMicrosoftStandIn({
    now: o.now ?? new Date('2026-11-25T09:00:00.000Z'),
    freezeClock: true,
    partners: [
      {
        tenantId: PARTNER_TENANT,
        displayName: 'Fabrikam Cloud Partners',
        app: { clientId: FABRIKAM_APP, clientSecret: SECRETS.FABRIKAM_GRAPH_CLIENT_SECRET },
      },
      {
        tenantId: NORTHWIND_TENANT,
        displayName: 'Northwind Managed Services',
        app: { clientId: NORTHWIND_APP, clientSecret: SECRETS.NORTHWIND_GRAPH_CLIENT_SECRET },
      },
    ],
    customers: [{ tenantId: CUSTOMER_TENANT, displayName: 'Contoso Ltd', defaultDomainName: 'contoso.onmicrosoft.com' }],
    ...(o.partnerCenter
      ? {
          partnerCenter: {
            products: partnerCenterProducts(loadCatalog()),
            resellers: (o.partnerCenter.resellerOf ?? []).map((customerTenantId) => ({
              partnerTenantId: PARTNER_TENANT,
              customerTenantId,
            })),
          },
        }
      : {}),
  });

  return {
    ms,
    dir,
    dataDir: join(dir, 'data'),
    partnersFile,
    start: (s: { log?: Logger; secrets?: Record<string, string>; timeoutMs?: number } = {}): Promise<TestBot> =>
      startTestBot({
        start: ms.control.clock.now(),
        microsoft: { standIn: ms, secrets: s.secrets ?? SECRETS, ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) },
        partnersFile,
        dataDir: join(dir, 'data'),
        ...(s.log ? { log: s.log } : {}),
      }),
    /** The relationship at Microsoft that the bot created for a request (`Partner Offers D-…`). */
    graphOf: (requestId: string) => ms.control.relationships().find((r) => r.graph.displayName === `Partner Offers ${requestId}`),
    async close() {
      await ms.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Microsoft = Awaited<ReturnType<typeof startMicrosoft>>;

/** Partner Center's catalog as Microsoft sells the services: each SKU (and its trial) in the US and GB. */
export function partnerCenterProducts(catalog: Catalog): PartnerCenterProductInput[] {
  return catalog.services.flatMap((s) =>
    s.partnerCenter
      ? [
          {
            id: s.partnerCenter.productId,
            title: s.name,
            skus: [
              { id: s.partnerCenter.skuId, title: s.name, countries: ['US', 'GB'] },
              ...(s.partnerCenter.trialSkuId
                ? [{ id: s.partnerCenter.trialSkuId, title: `${s.name} Trial`, isTrial: true, countries: ['US', 'GB'] }]
                : []),
            ],
          },
        ]
      : [],
  );
}

/** Time passes for both the bot and Microsoft; then the bot's sweep runs what is due and its outbox is delivered. */
export async function tick(bot: TestBot, ms: MicrosoftStandIn, by = 60_000): Promise<void> {
  bot.clock.now = new Date(bot.clock.now.getTime() + by);
  ms.control.clock.set(bot.clock.now);
  await bot.app.sweep();
  await bot.drain();
}

/** The card as a chat shows it now: the last message or update there that names `id`. */
export const shown = (bot: TestBot, chat: { conversationId: string }, id: string): string =>
  bot.sink.requests
    .filter((x) => (x.method === 'POST' || x.method === 'PUT') && x.accepted && x.conversationId === chat.conversationId)
    .map((x) => bot.sink.textOf(x))
    .filter((t) => t.includes(id))
    .at(-1) ?? '';
