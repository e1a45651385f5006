import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as appPackage from '../../scripts/lib/app-package.cjs';
import { loadConfig } from '../../src/config';
import { committedEnv, deployment, localConfigs, OPERATOR_SECRETS, SAMPLE, simulate, TUNNEL, type Run } from './model';
import {
  expand,
  parseEnv,
  placeholders,
  read,
  readJsonc,
  readProject,
  schemaValidator,
  SCHEMA_FILE,
  YML_FILES,
  type Action,
  type Project,
} from './support';

// @microsoft/app-manifest requires strip-bom, an ES module jest's CommonJS registry cannot load on Node 20 (see
// test/manifest/manifest.test.ts); the validator never calls it for a manifest passed as an object.
jest.mock('strip-bom', () => (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s));

jest.setTimeout(60_000);

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const uses = (actions: Action[] | undefined) => (actions ?? []).map((a) => a.uses);
const missingIn = (run: Run) =>
  run.steps.filter((s) => s.missing.length > 0).map((s) => `${s.lifecycle}[${s.index}] ${s.action.uses}: ${s.missing.join(', ')}`);

/** Azure provision as `atk provision --env dev` runs it: the committed env file, the operator's secret, and the
 * subscription, resource group and RESOURCE_SUFFIX the Toolkit asks for or generates before any Azure action. */
function azureStart(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...committedEnv('env/.env.dev', 'dev', parseEnv),
    AZURE_SUBSCRIPTION_ID: SAMPLE.AZURE_SUBSCRIPTION_ID as string,
    AZURE_RESOURCE_GROUP_NAME: SAMPLE.AZURE_RESOURCE_GROUP_NAME as string,
    RESOURCE_SUFFIX: SAMPLE.RESOURCE_SUFFIX as string,
    SECRET_MONGODB_URI: SAMPLE.SECRET_MONGODB_URI as string,
    ...extra,
  };
}

interface Task {
  label: string;
  type?: string;
  command?: string;
  args?: { env?: string; ports?: { portNumber: number; writeToEnvironmentFile?: Record<string, string> }[] };
}
const tasks = () => readJsonc<{ tasks: Task[] }>('.vscode/tasks.json').tasks;

/** F5 in Teams: what the "Start local tunnel" task writes, then provision with --env local. */
function localStart(): Record<string, string> {
  const tunnel = tasks().find((t) => t.command === 'debug-start-local-tunnel');
  const written = Object.values(tunnel?.args?.ports?.[0]?.writeToEnvironmentFile ?? {});
  return { TEAMSFX_ENV: 'local', ...Object.fromEntries(written.map((name) => [name, TUNNEL[name] as string])) };
}

describe('the Agents Toolkit lifecycle files: m365agents.yml, m365agents.local.yml, m365agents.playground.yml', () => {
  const validate = schemaValidator();

  it('validates against the yaml schema v1.13 vendored from @microsoft/m365agentstoolkit-cli 1.1.17, unchanged', () => {
    const sha = createHash('sha256').update(read(SCHEMA_FILE)).digest('hex');
    expect(read('schemas/README.md')).toContain(sha);
    expect(read('schemas/README.md')).toContain('@microsoft/m365agentstoolkit-cli@1.1.17');
    const schema = JSON.parse(read(SCHEMA_FILE)) as { properties: { version: { const: string } } };
    expect(schema.properties.version.const).toBe('v1.13');
  });

  it.each(YML_FILES)('%s validates against the schema, declares v1.13 and keeps its environments in env/', (file) => {
    const project = readProject(file);
    const valid = validate(project);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(project.version).toBe('v1.13');
    expect(project.environmentFolderPath).toBe('./env');
    expect(read(file).split('\n')[0]).toBe('# yaml-language-server: $schema=https://aka.ms/m365-agents-toolkits/v1.13/yaml.schema.json');
  });

  it('refuses what the Toolkit would refuse, so the check can fail', () => {
    const project = readProject('m365agents.yml');
    const broken: [string, (p: Project) => void][] = [
      ['a misspelled action', (p) => ((p.provision as Action[])[0]!.uses = 'teamsApp/creat')],
      [
        'a secret written to a variable without the SECRET_ prefix',
        (p) => ((p.provision as Action[])[1]!.writeToEnvironmentFile!.clientSecret = 'BOT_PASSWORD'),
      ],
      ['an unknown argument', (p) => (((p.provision as Action[])[3]!.with as Record<string, unknown>).location = 'westeurope')],
      ['another schema version', (p) => (p.version = 'v1.12')],
      ['a deploy step without its resource', (p) => delete ((p.deploy as Action[])[3]!.with as Record<string, unknown>).resourceId],
    ];
    for (const [what, mutate] of broken) {
      const copy = clone(project);
      mutate(copy);
      expect({ what, valid: validate(copy) }).toEqual({ what, valid: false });
    }
  });

  it('m365agents.yml has the Toolkit id that encrypts secrets in env/.env.*.user, so the Toolkit need not write one', () => {
    expect(readProject('m365agents.yml').projectId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('each file has the lifecycles of its target; the Playground one needs neither Azure nor a Microsoft 365 account', () => {
    const [azure, local, playground] = YML_FILES.map(readProject) as [Project, Project, Project];
    expect([!!azure.provision, !!azure.deploy, !!azure.publish]).toEqual([true, true, true]);
    expect([!!local.provision, !!local.deploy, !!local.publish]).toEqual([true, true, false]);
    expect([!!playground.provision, !!playground.deploy, !!playground.publish]).toEqual([false, true, false]);
    // Only actions that run on this machine: npm, scripts, files.
    for (const action of playground.deploy ?? []) expect(action.uses).toMatch(/^(cli\/runNpmCommand|script|file\/.+)$/);
  });

  it('follows the Toolkit template order: the Teams app first, the package validated, zipped, checked and applied last', () => {
    const packaging = ['teamsApp/validateManifest', 'teamsApp/zipAppPackage', 'teamsApp/validateAppPackage', 'teamsApp/update'];
    for (const file of ['m365agents.yml', 'm365agents.local.yml']) {
      const provision = uses(readProject(file).provision);
      expect(provision[0]).toBe('teamsApp/create');
      expect(provision.slice(-4)).toEqual(packaging);
      // The tab's SSO app is updated once its domain is known, before the package that names it.
      expect(provision.indexOf('aadApp/update')).toBeLessThan(provision.indexOf('teamsApp/zipAppPackage'));
    }
    const azure = readProject('m365agents.yml');
    expect(uses(azure.provision).indexOf('arm/deploy')).toBeLessThan(uses(azure.provision).indexOf('aadApp/update'));
    expect(uses(azure.publish)).toEqual([...packaging, 'teamsApp/publishAppPackage']);
    expect(uses(azure.deploy).slice(-1)).toEqual(['azureAppService/zipDeploy']);
    const local = uses(readProject('m365agents.local.yml').provision);
    expect(local.indexOf('botFramework/create')).toBeGreaterThan(local.indexOf('aadApp/create'));
    for (const file of YML_FILES) {
      const deploy = readProject(file).deploy ?? [];
      const build = deploy.findIndex((a) => a.uses === 'cli/runNpmCommand' && a.with?.args === 'run build');
      expect({ file, build: build >= 0 }).toEqual({ file, build: true });
    }
  });

  describe('every action gets the variables it reads from the env file, the Toolkit or an action before it', () => {
    it('Azure provision (atk provision --env dev), with the operator having set SECRET_MONGODB_URI', () => {
      const run = simulate(readProject('m365agents.yml'), 'provision', azureStart());
      expect(missingIn(run)).toEqual([]);
      // The outputs the later actions and the deployed bot rely on.
      for (const name of [
        'TEAMS_APP_ID',
        'BOT_ID',
        'BOT_TENANT_ID',
        'SECRET_BOT_PASSWORD',
        'AAD_APP_CLIENT_ID',
        'TAB_ENDPOINT',
        'TAB_DOMAIN',
        'AZURE_APP_SERVICE_RESOURCE_ID',
      ]) {
        expect({ name, value: Boolean(run.env[name]) }).toEqual({ name, value: true });
      }
    });

    it('stops at the ARM deployment, naming the variable, when the operator has not set SECRET_MONGODB_URI', () => {
      const start = azureStart();
      delete start.SECRET_MONGODB_URI;
      expect(missingIn(simulate(readProject('m365agents.yml'), 'provision', start))).toEqual([
        'provision[3] arm/deploy: SECRET_MONGODB_URI',
      ]);
    });

    it('Azure deploy and publish, with what provision wrote', () => {
      const project = readProject('m365agents.yml');
      const provisioned = simulate(project, 'provision', azureStart()).env;
      expect(missingIn(simulate(project, 'deploy', provisioned))).toEqual([]);
      expect(missingIn(simulate(project, 'publish', provisioned))).toEqual([]);
    });

    it('F5 in Teams: provision after the tunnel task, then deploy', () => {
      const project = readProject('m365agents.local.yml');
      const provisioned = simulate(project, 'provision', localStart());
      expect(missingIn(provisioned)).toEqual([]);
      expect(provisioned.env.TAB_ENDPOINT).toBe(TUNNEL.BOT_ENDPOINT);
      expect(provisioned.env.TAB_DOMAIN).toBe(TUNNEL.BOT_DOMAIN);
      expect(missingIn(simulate(project, 'deploy', provisioned.env))).toEqual([]);
    });

    it('F5 in the Playground needs no variable', () => {
      const run = simulate(readProject('m365agents.playground.yml'), 'deploy', committedEnv('env/.env.playground', 'playground', parseEnv));
      expect(run.steps.flatMap((s) => s.needs)).toEqual([]);
    });
  });

  it('env/.env.dev lists, empty, every variable Azure provision writes, and holds no secret', () => {
    const committed = parseEnv(read('env/.env.dev'));
    const written = Object.keys(
      simulate(readProject('m365agents.yml'), 'provision', azureStart()).steps.reduce((all, s) => ({ ...all, ...s.outputs }), {}),
    );
    for (const name of written.filter((n) => !n.startsWith('SECRET_')))
      expect({ name, listed: committed[name] }).toEqual({ name, listed: '' });
    expect(Object.keys(committed).filter((k) => k.startsWith('SECRET_'))).toEqual([]);
    expect(Object.entries(committed).filter(([, v]) => v !== '')).toEqual([
      ['TEAMSFX_ENV', 'dev'],
      ['PARTNERS_FILE', 'env/partners.dev.json'],
    ]);
    // The secret the operator adds is named where they will look for it.
    for (const name of OPERATOR_SECRETS) {
      expect({ name, 'env/.env.dev': read('env/.env.dev').includes(name), 'README.md': read('README.md').includes(name) }).toEqual({
        name,
        'env/.env.dev': true,
        'README.md': true,
      });
    }
  });

  it("the tab's SSO app: access_as_user for Teams' clients, at api://<TAB_DOMAIN>/<client id>, for every tenant", () => {
    const manifest = JSON.parse(read('manifest/aad.manifest.json')) as {
      identifierUris: string[];
      signInAudience: string;
      api: {
        requestedAccessTokenVersion: number;
        oauth2PermissionScopes: { id: string; value: string; type: string; isEnabled: boolean }[];
        preAuthorizedApplications: { appId: string; delegatedPermissionIds: string[] }[];
      };
    };
    expect(manifest.identifierUris).toEqual(['api://${{TAB_DOMAIN}}/${{AAD_APP_CLIENT_ID}}']);
    expect(manifest.api.oauth2PermissionScopes).toEqual([
      expect.objectContaining({ value: 'access_as_user', type: 'User', isEnabled: true, id: '${{AAD_APP_ACCESS_AS_USER_PERMISSION_ID}}' }),
    ]);
    // Teams desktop and mobile, Teams web (Microsoft Learn, "Configure tab app in Microsoft Entra ID").
    expect(manifest.api.preAuthorizedApplications).toEqual([
      { appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', delegatedPermissionIds: ['${{AAD_APP_ACCESS_AS_USER_PERMISSION_ID}}'] },
      { appId: '5e3ce6c0-2b1f-4285-8d4b-75ee78787346', delegatedPermissionIds: ['${{AAD_APP_ACCESS_AS_USER_PERMISSION_ID}}'] },
    ]);
    expect(manifest.api.requestedAccessTokenVersion).toBe(2);
    // Partner staff sign in from their own tenants; the app is created with the same audience it is updated to.
    expect(manifest.signInAudience).toBe('AzureADMultipleOrgs');
    for (const file of ['m365agents.yml', 'm365agents.local.yml']) {
      const tab = (readProject(file).provision ?? []).find((a) => a.writeToEnvironmentFile?.clientId === 'AAD_APP_CLIENT_ID');
      expect(tab?.with).toEqual(expect.objectContaining({ generateClientSecret: false, signInAudience: manifest.signInAudience }));
    }
  });

  describe('the app package provision builds validates as `npm run package` validates it, and SSO lines up', () => {
    let out: string;
    beforeAll(() => {
      out = mkdtempSync(join(tmpdir(), 'partner-offers-toolkit-'));
    });
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    async function check(file: string, start: Record<string, string>, botEnv: (env: Record<string, string>) => Record<string, string>) {
      const run = simulate(readProject(file), 'provision', start);
      const zip = run.steps.find((s) => s.action.uses === 'teamsApp/zipAppPackage');
      expect(zip?.missing).toEqual([]);
      const env = run.env;
      const bot = botEnv(env);
      // The project's own checks (TAB_DOMAIN is TAB_ENDPOINT's host; the bot's AAD_APP_ID_URI is the manifest's resource).
      const { values } = appPackage.resolvePlaceholderValues({
        env: { ...env, AAD_APP_ID_URI: bot.AAD_APP_ID_URI },
        envName: env.TEAMSFX_ENV,
      });
      const built = await appPackage.buildAppPackage({
        manifestPath: join(__dirname, '..', '..', 'manifest', 'manifest.json'),
        values,
        outFile: join(out, `appPackage.${env.TEAMSFX_ENV}.zip`),
      });
      const manifest = built.manifest as {
        id: string;
        bots: { botId: string }[];
        validDomains: string[];
        webApplicationInfo: { id: string; resource: string };
      };
      const aad = JSON.parse(expand(read('manifest/aad.manifest.json'), env)) as { identifierUris: string[]; appId: string };
      expect(placeholders(JSON.stringify(aad))).toEqual([]);
      expect(manifest.id).toBe(env.TEAMS_APP_ID);
      expect(manifest.bots[0]?.botId).toBe(bot.MicrosoftAppId);
      expect(manifest.webApplicationInfo).toEqual({ id: bot.AAD_APP_CLIENT_ID, resource: bot.AAD_APP_ID_URI });
      expect(aad.identifierUris).toEqual([bot.AAD_APP_ID_URI]);
      expect(aad.appId).toBe(bot.AAD_APP_CLIENT_ID);
      expect(manifest.validDomains).toContain(env.TAB_DOMAIN);
      return { env, bot };
    }

    it('in Azure: the App Service host, and the app settings infra/azure.bicep gives the bot', async () => {
      const { env, bot } = await check('m365agents.yml', azureStart(), (e) => deployment(e).environment);
      expect(env.TAB_ENDPOINT).toBe(`https://${deployment(env).hostName}`);
      expect(bot.AAD_APP_ID_URI).toBe(`api://${deployment(env).hostName}/${SAMPLE.AAD_APP_CLIENT_ID}`);
    });

    it('for F5 in Teams: the tunnel host, and the .localConfigs the deploy step writes', async () => {
      const project = readProject('m365agents.local.yml');
      const { bot } = await check('m365agents.local.yml', localStart(), (e) => localConfigs(project, e));
      // That file makes the bot a Teams bot, on top of env/local.env as `npm run dev:teams` reads them.
      const config = loadConfig({ ...parseEnv(read('env/local.env')), ...bot });
      expect(config.localMode).toBe(false);
      expect(config.auth).toEqual(
        expect.objectContaining({
          MicrosoftAppId: SAMPLE.BOT_ID,
          MicrosoftAppType: 'SingleTenant',
          MicrosoftAppTenantId: SAMPLE.BOT_TENANT_ID,
        }),
      );
      expect(config.tab.sso?.audiences).toEqual([SAMPLE.AAD_APP_CLIENT_ID, `api://${TUNNEL.BOT_DOMAIN}/${SAMPLE.AAD_APP_CLIENT_ID}`]);
      expect(config.partnersFile).toBe('env/partners.local.json');
      expect(config.microsoft).toEqual({
        authorityHost: 'https://login.microsoftonline.com',
        graphBaseUrl: 'https://graph.microsoft.com/v1.0',
        adminCenterUrl: 'https://admin.microsoft.com',
        partnerCenterBaseUrl: 'https://api.partnercenter.microsoft.com/v1',
      });
    });
  });
});
