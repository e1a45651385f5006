/**
 * Start the Microsoft stand-in on its own: `node dist/stand-in/cli.js [--port 4100] [--host 127.0.0.1]`.
 * Prints its URLs as one JSON line on stdout (for scripts such as `npm run playground`) and stays up until SIGINT/SIGTERM.
 * Tenants and apps are registered through the control routes (`POST /_control/partners`, `/_control/customers`).
 */
import { startMicrosoftStandIn } from './index';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(option('port') ?? process.env.STAND_IN_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Not a port: ${String(option('port'))}`);
  const standIn = await startMicrosoftStandIn({ port, host: option('host') ?? '127.0.0.1' });
  console.log(
    JSON.stringify({
      url: standIn.url,
      graphBaseUrl: standIn.graphBaseUrl,
      partnerCenterBaseUrl: standIn.partnerCenterBaseUrl,
      authorityHost: standIn.authorityHost,
      tokenEndpoint: standIn.tokenEndpoint('{tenantId}'),
      adminCenterLink: standIn.adminCenterLink('{relationshipId}'),
      control: `${standIn.url}/_control/`,
    }),
  );
  const stop = () => {
    standIn.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
