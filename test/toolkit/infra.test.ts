import { CONFIG_KEYS, DEVELOPMENT_TEAMS_APP_ID, loadConfig, type Config } from '../../src/config';
import { deployment, KEY_VAULT_REFERENCE, SAMPLE, type Deployment } from './model';
import { Bicep, parseEnv, placeholders, read } from './support';

/**
 * infra/azure.bicep and infra/azure.parameters.json, read without a Bicep compiler (test/toolkit/support.ts): what the
 * App Service hands the bot must be a production configuration src/config.ts accepts, with every secret in Key Vault.
 */

const bicep = new Bicep(read('infra/azure.bicep'));

/** The Toolkit's environment when provision reaches arm/deploy (the yml files' flow is checked in lifecycle.test.ts). */
const toolkitEnv: Record<string, string> = { ...parseEnv(read('env/.env.dev')), ...SAMPLE, TEAMSFX_ENV: 'dev' };

/** Keys src/config.ts reads that the Azure deployment leaves unset on purpose, and why. */
const NOT_SET_IN_AZURE: Record<string, string> = {
  PORT: 'App Service sets PORT for the port it forwards to',
  HOST: '0.0.0.0 is already the default outside local mode',
  DATA_DIR: 'SQLite is not used: MONGODB_URI is required in Azure',
  BotOpenIdMetadata: "a test harness's token keys; Azure uses Bot Framework's",
  AAD_JWKS_URI: "a test harness's SSO keys; Azure uses Entra's",
  DEV_PARTNER_TENANT_ID: 'local mode only',
  TAB_HOST_ORIGINS: 'local mode only (refused with an app id)',
};

/** App Service's own settings, which the bot never reads. */
const PLATFORM_SETTINGS = ['SCM_DO_BUILD_DURING_DEPLOYMENT', 'CUSTOM_BUILD_COMMAND'];

/** The settings a production deployment cannot do without (each is removed in turn below). */
const REQUIRED = [
  'NODE_ENV',
  'MicrosoftAppId',
  'MicrosoftAppPassword',
  'MicrosoftAppType',
  'MicrosoftAppTenantId',
  'MONGODB_URI',
  'TEAMS_APP_ID',
  'AAD_APP_CLIENT_ID',
  'AAD_APP_ID_URI',
  'PARTNERS_FILE',
  'DELIVERY_INSTANCES',
];

/** What the deployment must give: a production bot, authenticated, on MongoDB, the tab behind SSO, its own ids. */
function productionShaped(config: Config, d: Deployment): boolean {
  return (
    config.production &&
    !config.localMode &&
    config.host === '0.0.0.0' &&
    config.auth.MicrosoftAppType === 'SingleTenant' &&
    config.auth.MicrosoftAppId === SAMPLE.BOT_ID &&
    config.auth.MicrosoftAppPassword === SAMPLE.SECRET_BOT_PASSWORD &&
    config.auth.MicrosoftAppTenantId === SAMPLE.BOT_TENANT_ID &&
    config.mongo?.uri === SAMPLE.SECRET_MONGODB_URI &&
    config.teamsAppId === SAMPLE.TEAMS_APP_ID &&
    config.teamsAppId !== DEVELOPMENT_TEAMS_APP_ID &&
    JSON.stringify(config.tab.sso?.audiences) ===
      JSON.stringify([SAMPLE.AAD_APP_CLIENT_ID, `api://${d.hostName}/${SAMPLE.AAD_APP_CLIENT_ID}`]) &&
    config.partnersFile === toolkitEnv.PARTNERS_FILE &&
    config.delivery.instances === d.param('instanceCount')
  );
}

/** The bot's configuration from the App Service environment (App Service also sets PORT). */
const configOf = (environment: Record<string, string>) => loadConfig({ ...environment, PORT: '8080' });

describe('infra/azure.bicep: the App Service, its settings, the Key Vault and the Azure Bot', () => {
  const d = deployment(toolkitEnv);
  const botSettings = bicep.objectVar('botSettings');

  it('sets as bot settings only keys src/config.ts reads, and besides them only App Service settings', () => {
    expect([...botSettings.keys()].filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
    expect([...bicep.objectVar('platformSettings').keys()]).toEqual(PLATFORM_SETTINGS);
    const bot = Object.keys(d.settings).filter((k) => !PLATFORM_SETTINGS.includes(k));
    expect(bot.filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
  });

  it('decides about every key the bot reads: set in Azure, or left unset for a stated reason', () => {
    const undecided = CONFIG_KEYS.filter((k) => !botSettings.has(k) && !(k in NOT_SET_IN_AZURE));
    expect(undecided).toEqual([]);
    expect(Object.keys(NOT_SET_IN_AZURE).filter((k) => botSettings.has(k))).toEqual([]);
    expect(Object.keys(NOT_SET_IN_AZURE).filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
  });

  it('gives the bot a production configuration src/config.ts accepts: authenticated, MongoDB, the tab behind SSO', () => {
    expect(d.unresolved).toEqual([]);
    expect(productionShaped(configOf(d.environment), d)).toBe(true);
    const config = configOf(d.environment);
    expect(config.microsoft).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
      adminCenterUrl: 'https://admin.microsoft.com',
      partnerCenterBaseUrl: 'https://api.partnercenter.microsoft.com/v1',
    });
    expect(config.mongo?.dbName).toBe('partnerOffers');
  });

  it.each(REQUIRED)('cannot do without %s: without it the bot refuses to start or is not production-shaped', (key) => {
    expect(botSettings.has(key)).toBe(true);
    // Two instances, so that the share of the rate limits matters too.
    const two = deployment(toolkitEnv, { params: { instanceCount: 2 } });
    expect(productionShaped(configOf(two.environment), two)).toBe(true);
    const { [key]: _removed, ...rest } = two.environment;
    let shaped: boolean;
    try {
      shaped = productionShaped(configOf(rest), two);
    } catch {
      shaped = false;
    }
    expect(shaped).toBe(false);
  });

  it('keeps every secret in the Key Vault: the settings hold Key Vault references, the template and parameters none', () => {
    const params = bicep.params();
    const secure = [...params.values()].filter((p) => p.secure).map((p) => p.name);
    expect(secure.sort()).toEqual(['botPassword', 'mongodbUri']);
    // A secure parameter is used once: as a Key Vault secret's value.
    for (const name of secure) {
      const uses = bicep.text.match(new RegExp(`\\b${name}\\b`, 'g')) ?? [];
      expect({ name, uses: uses.length }).toEqual({ name, uses: 2 });
      expect(bicep.text).toMatch(new RegExp(`^\\s*value: ${name}$`, 'm'));
    }
    // The parameters file gives them only from the Toolkit's secret variables (env/.env.<env>.user, masked in logs).
    const file = (JSON.parse(read('infra/azure.parameters.json')) as { parameters: Record<string, { value: unknown }> }).parameters;
    for (const name of secure) expect(placeholders(JSON.stringify(file[name]))).toEqual([expect.stringMatching(/^SECRET_/)]);
    for (const [name, { value }] of Object.entries(file)) {
      if (!secure.includes(name))
        expect({ name, secret: placeholders(JSON.stringify(value)).some((v) => v.startsWith('SECRET_')) }).toEqual({ name, secret: false });
    }
    // The app sees references, resolved to the secret values by App Service.
    for (const key of ['MicrosoftAppPassword', 'MONGODB_URI']) {
      expect(d.settings[key]).toMatch(KEY_VAULT_REFERENCE);
      expect(KEY_VAULT_REFERENCE.exec(d.settings[key] as string)?.[1]).toBe(d.keyVaultName);
    }
    expect(d.environment.MicrosoftAppPassword).toBe(SAMPLE.SECRET_BOT_PASSWORD);
    expect(d.environment.MONGODB_URI).toBe(SAMPLE.SECRET_MONGODB_URI);
    // No setting carries a secret value itself.
    const values = Object.values(d.settings);
    expect(values).not.toContain(SAMPLE.SECRET_BOT_PASSWORD);
    expect(values).not.toContain(SAMPLE.SECRET_MONGODB_URI);
  });

  it("lets the app's own identity read the vault's secrets before the settings that reference them apply", () => {
    const vault = Bicep.object(bicep.resource('keyVault').get('properties'));
    expect(vault.get('enableRbacAuthorization')).toBe('true');
    const role = bicep.resource('secretsUser');
    expect(role.get('scope')).toBe('keyVault');
    const properties = Bicep.object(role.get('properties'));
    expect(properties.get('principalId')).toBe('webApp.identity.principalId');
    // Key Vault Secrets User, a built-in role: read secret values, nothing else.
    expect(bicep.variable('keyVaultSecretsUserRoleId')).toBe("'4633458b-17de-408a-b874-0445c86b69e6'");
    expect(Bicep.object(bicep.resource('webApp').get('identity')).get('type')).toBe("'SystemAssigned'");
    expect(bicep.resource('appSettings').get('dependsOn')).toMatch(/\bsecretsUser\b/);
  });

  it("gives each connected partner's Graph secret a Key Vault reference under the name its partners file entry reads", () => {
    const sample = JSON.parse(read('env/partners.sample.json')) as { partners: { microsoft?: { clientSecretEnv?: string } }[] };
    const names = sample.partners.flatMap((p) => (p.microsoft?.clientSecretEnv ? [p.microsoft.clientSecretEnv] : []));
    expect(names).toEqual(['FABRIKAM_GRAPH_CLIENT_SECRET']);
    const withPartner = deployment(toolkitEnv, {
      params: { partnerSecretNames: names },
      vault: { 'FABRIKAM-GRAPH-CLIENT-SECRET': 'fabrikam-secret-in-the-vault' },
    });
    expect(withPartner.settings.FABRIKAM_GRAPH_CLIENT_SECRET).toBe(
      `@Microsoft.KeyVault(VaultName=${withPartner.keyVaultName};SecretName=FABRIKAM-GRAPH-CLIENT-SECRET)`,
    );
    expect(withPartner.environment.FABRIKAM_GRAPH_CLIENT_SECRET).toBe('fabrikam-secret-in-the-vault');
    // Not yet in the vault: App Service passes the reference text on, and the deployment says which one.
    expect(deployment(toolkitEnv, { params: { partnerSecretNames: names } }).unresolved).toEqual(['FABRIKAM_GRAPH_CLIENT_SECRET']);
    // A partner secret cannot replace one of the bot's own settings.
    const clash = deployment(toolkitEnv, { params: { partnerSecretNames: ['MicrosoftAppPassword'] } });
    expect(clash.environment.MicrosoftAppPassword).toBe(SAMPLE.SECRET_BOT_PASSWORD);
  });

  it('runs a Linux App Service on Node 20, HTTPS only, Always On, with its health check on /readyz and no FTP', () => {
    const site = Bicep.object(bicep.resource('webApp').get('properties'));
    const config = Bicep.object(site.get('siteConfig'));
    expect(bicep.resource('webApp').get('kind')).toBe("'app,linux'");
    expect(Bicep.object(bicep.resource('serverfarm').get('properties')).get('reserved')).toBe('true');
    expect(d.param('linuxFxVersion')).toBe('NODE|20-lts');
    expect(config.get('linuxFxVersion')).toBe('linuxFxVersion');
    expect(site.get('httpsOnly')).toBe('true');
    expect(config.get('healthCheckPath')).toBe("'/readyz'");
    expect(config.get('alwaysOn')).toBe('true');
    expect(config.get('minTlsVersion')).toBe("'1.2'");
    expect(config.get('ftpsState')).toBe("'Disabled'");
    // Stateless processes behind the load balancer: no sticky sessions.
    expect(site.get('clientAffinityEnabled')).toBe('false');
  });

  it('starts the built output with `npm run start:prod`, which runs dist/ and never builds', () => {
    const config = Bicep.object(Bicep.object(bicep.resource('webApp').get('properties')).get('siteConfig'));
    expect(config.get('appCommandLine')).toBe("'npm run start:prod'");
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:prod']).toMatch(/^node .*dist\/src\/index\.js$/);
    expect(scripts['start:prod']).not.toMatch(/build|tsc|esbuild|--env-file/);
    // App Service installs the production dependencies from the lock file and does not build.
    expect(d.settings.CUSTOM_BUILD_COMMAND).toBe('npm ci --omit=dev --no-audit --no-fund');
    expect(d.settings.SCM_DO_BUILD_DURING_DEPLOYMENT).toBe('true');
    expect(d.settings).not.toHaveProperty('WEBSITE_RUN_FROM_PACKAGE');
  });

  it('scales to instanceCount instances, each sending within its share of the rate limits', () => {
    expect(bicep.resource('serverfarm').get('sku')).toMatch(/capacity: instanceCount/);
    const three = deployment(toolkitEnv, { params: { instanceCount: 3 } });
    expect(configOf(three.environment).delivery.instances).toBe(3);
  });

  it('registers the bot with Azure: single-tenant, the Entra app from provision, the App Service endpoint, Teams', () => {
    const bot = bicep.resource('botService');
    const properties = Bicep.object(bot.get('properties'));
    expect(properties.get('msaAppType')).toBe("'SingleTenant'");
    expect(properties.get('msaAppId')).toBe('botAppId');
    expect(properties.get('msaAppTenantId')).toBe('botTenantId');
    expect(properties.get('endpoint')).toBe("'https://${webApp.properties.defaultHostName}/api/messages'");
    expect(bot.get('kind')).toBe("'azurebot'");
    const channel = bicep.resource('teamsChannel');
    expect(channel.get('parent')).toBe('botService');
    expect(Bicep.object(channel.get('properties')).get('channelName')).toBe("'MsTeamsChannel'");
    // The bot's own settings say the same: the same app, the same tenant, single-tenant.
    expect([d.environment.MicrosoftAppId, d.environment.MicrosoftAppTenantId, d.environment.MicrosoftAppType]).toEqual([
      SAMPLE.BOT_ID,
      SAMPLE.BOT_TENANT_ID,
      'SingleTenant',
    ]);
  });

  it('takes MongoDB as a parameter, documented as the replica set the bot requires (Atlas, Cosmos DB vCore)', () => {
    const mongo = bicep.params().get('mongodbUri');
    expect(mongo?.secure).toBe(true);
    expect(mongo?.default).toBeUndefined();
    expect(mongo?.decorators).toMatch(/replica set/);
    const readme = read('infra/README.md');
    for (const words of [/replica set/i, /MongoDB Atlas/, /Cosmos DB for MongoDB \(vCore\)|Cosmos DB for MongoDB vCore/])
      expect(readme).toMatch(words);
  });

  it('gives every parameter without a default a value, and declares every parameter the parameters file sets', () => {
    const declared = bicep.params();
    const file = (JSON.parse(read('infra/azure.parameters.json')) as { parameters: Record<string, unknown> }).parameters;
    expect(Object.keys(file).filter((k) => !declared.has(k))).toEqual([]);
    expect([...declared.values()].filter((p) => p.default === undefined && !(p.name in file)).map((p) => p.name)).toEqual([]);
  });

  it('outputs the host for the package, the tab and the deploy step, all the same https App Service host', () => {
    expect(d.outputs).toEqual({
      AZURE_APP_SERVICE_RESOURCE_ID: expect.stringMatching(/\/providers\/Microsoft\.Web\/sites\/partneroffers3f2a1c$/),
      AZURE_KEY_VAULT_NAME: d.keyVaultName,
      BOT_DOMAIN: d.hostName,
      BOT_ENDPOINT: `https://${d.hostName}`,
      TAB_DOMAIN: d.hostName,
      TAB_ENDPOINT: `https://${d.hostName}`,
    });
    // Resource names the bicep limits allow: App Service 2-60, Key Vault 3-24 letters, digits and dashes.
    expect(d.keyVaultName).toMatch(/^[a-z][a-z0-9-]{2,23}$/);
  });
});
