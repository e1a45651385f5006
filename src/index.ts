import { systemClock } from './clock';
import { ConfigError, loadConfig } from './config';
import { createApp } from './app';
import { loadCatalog } from './directory/catalog';
import { microsoftApps, partnerCenterApps, readPartnersFile } from './directory/partners';
import { secretSources } from './delegation/graph';
import { seedPartners } from './directory/seed';
import { createLogger } from './log';
import { openStore } from './store/open';

/** The composition root: the only place that reads the environment and constructs things. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const catalog = loadCatalog(config.catalogFile);
  const partners = readPartnersFile(config.partnersFile, catalog);
  const store = await openStore(config, log);
  const app = createApp({
    config,
    store,
    catalog,
    clock: systemClock,
    log,
    microsoft: { apps: microsoftApps(partners), partnerCenterApps: partnerCenterApps(partners), sources: secretSources(process.env) },
  });
  await seedPartners(store, partners, app.marketplace.seed);
  app.start();
  await new Promise<void>((resolve) => {
    app.server.listen(config.port, config.host, resolve);
  });
  const url = `http://${config.host}:${(app.server.address() as { port: number }).port}/api/messages`;
  log.info({ url, store: store.kind, partners: partners.length, localMode: config.localMode }, 'Partner Offers bot listening');
  if (config.localMode) {
    console.log(
      [
        '',
        `  Partner Offers is running in LOCAL MODE at ${url}`,
        '  No MicrosoftAppId is set, so requests are not authenticated and only this machine can connect.',
        `  Data: ${store.kind === 'sqlite' ? config.dataDir : 'MongoDB'} · partners registered: ${partners.map((p) => p.name).join(', ')}`,
        '',
        '  Try it in the Microsoft 365 Agents Playground (the local Teams client), in another terminal:',
        '    npm run playground',
        '  It opens a partner tenant (as Alex Wilber) and a customer tenant (as Megan Bowen, admin@contoso.com);',
        '  the URLs to open are printed there. In the partner window type:',
        '    trial admin@contoso.com m365-business-premium, teams-essentials',
        '',
        `  The partner dashboard (the Offers tab) in a browser: ${url.replace(/\/api\/messages$/, '/tab/index.html')}`,
        config.tab.sso
          ? '  (it needs a Teams SSO token: open it in Teams)'
          : `  (as a development identity of tenant ${config.tab.devPartnerTenantId})`,
        '',
      ].join('\n'),
    );
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`Partner Offers failed to start: ${(err as Error).message}`);
  process.exit(1);
});
