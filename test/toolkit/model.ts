import { execFileSync } from 'node:child_process';
import { Bicep, evaluate, expand, placeholders, read, scriptOutputs, type Action, type Project } from './support';

/**
 * What the Agents Toolkit and Azure would do with the lifecycle files, with made-up values of the real shape and no
 * call to Microsoft: which variables each action reads and writes, what the ARM deployment creates, and which
 * settings the App Service hands the bot.
 */

/** Values the Toolkit, Entra and the operator would supply, for each variable the lifecycle files use. */
export const SAMPLE: Readonly<Record<string, string>> = {
  TEAMS_APP_ID: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  TEAMS_APP_TENANT_ID: 'c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c',
  TEAMS_APP_PUBLISHED_APP_ID: '6e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
  BOT_ID: '9b2d1c4e-7a55-4e0f-8c1d-2f6a3b4c5d6e',
  BOT_OBJECT_ID: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  BOT_TENANT_ID: 'c3b5e1a2-7d4f-4e8a-9b6c-1d2e3f4a5b6c',
  SECRET_BOT_PASSWORD: 'Zx8Q~sample.bot.secret-not-real_0123456789',
  AAD_APP_CLIENT_ID: '5d7c1f2a-3b4e-4c6d-9e8f-0a1b2c3d4e5f',
  AAD_APP_OBJECT_ID: '7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910',
  AAD_APP_ACCESS_AS_USER_PERMISSION_ID: '2c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f',
  AZURE_SUBSCRIPTION_ID: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
  AZURE_RESOURCE_GROUP_NAME: 'rg-partner-offers-dev',
  RESOURCE_SUFFIX: '3f2a1c',
  SECRET_MONGODB_URI: 'mongodb+srv://offers:s3cret%40pw@cluster0.example.mongodb.net/?retryWrites=true&w=majority',
};

/** What the "Start local tunnel" task writes before F5 in Teams provisions (a dev tunnel to port 3978). */
export const TUNNEL: Readonly<Record<string, string>> = {
  BOT_ENDPOINT: 'https://k7r2x9m4-3978.euw.devtunnels.ms',
  BOT_DOMAIN: 'k7r2x9m4-3978.euw.devtunnels.ms',
};

/** The one secret the operator supplies before the first Azure provision (in env/.env.<env>.user). */
export const OPERATOR_SECRETS = ['SECRET_MONGODB_URI'] as const;

/** What uniqueString(resourceGroup().id) might return: 13 lower-case letters and digits. */
const UNIQUE_STRING = 'q4zv7h2kx9c3m';

export interface Step {
  lifecycle: string;
  index: number;
  action: Action;
  /** Every variable the action needs a value for: in its own arguments, or in the files it reads. */
  needs: string[];
  /** Needed, but nothing before it gave a value. */
  missing: string[];
  outputs: Record<string, string>;
}

export interface Run {
  env: Record<string, string>;
  steps: Step[];
}

/** The variables an action needs from the files it reads (the Toolkit expands placeholders in them too). */
function fileNeeds(action: Action): string[] {
  const w = action.with ?? {};
  switch (action.uses) {
    case 'arm/deploy':
      return ((w.templates ?? []) as { parameters?: string }[]).flatMap((t) => (t.parameters ? placeholders(read(t.parameters)) : []));
    case 'aadApp/update':
      // The action generates the scope's id when the variable is empty.
      return placeholders(read(String(w.manifestPath))).filter((n) => n !== 'AAD_APP_ACCESS_AS_USER_PERMISSION_ID');
    case 'teamsApp/validateManifest':
    case 'teamsApp/zipAppPackage':
      return placeholders(read(String(w.manifestPath)));
    default:
      return [];
  }
}

function sampleOf(name: string): string {
  const value = SAMPLE[name];
  if (value === undefined) throw new Error(`the model has no sample value for ${name}: add one to SAMPLE`);
  return value;
}

/** The variables an action writes, with their values. */
function outputsOf(action: Action, env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.values(action.writeToEnvironmentFile ?? {})) out[name] = sampleOf(name);
  const w = action.with ?? {};
  if (action.uses === 'teamsApp/create') out.TEAMS_APP_TENANT_ID = sampleOf('TEAMS_APP_TENANT_ID');
  if (action.uses === 'aadApp/update' && read(String(w.manifestPath)).includes('AAD_APP_ACCESS_AS_USER_PERMISSION_ID')) {
    out.AAD_APP_ACCESS_AS_USER_PERMISSION_ID = env.AAD_APP_ACCESS_AS_USER_PERMISSION_ID || sampleOf('AAD_APP_ACCESS_AS_USER_PERMISSION_ID');
  }
  if (action.uses === 'arm/deploy') Object.assign(out, deployment(env).outputs);
  if (action.uses === 'script' && scriptOutputs(String(w.run)).length > 0) {
    // Run it (it only prints), and read its output the way the Toolkit does.
    const stdout = execFileSync('sh', ['-c', expand(String(w.run), env)], { encoding: 'utf8' });
    for (const m of stdout.matchAll(/::(set-teamsfx-env|set-output)\s+(\w+)=((["'])(.*?)\4|[^"'\s]+)/g)) {
      out[m[2] as string] = m[5] !== undefined ? m[5] : (m[3] as string);
    }
  }
  return out;
}

/** Runs one lifecycle of a project file from `env`, recording what each action needs and writes, as far as it gets. */
export function simulate(project: Project, lifecycle: 'provision' | 'deploy' | 'publish', start: Record<string, string>): Run {
  const env = { ...start };
  const steps: Step[] = [];
  for (const [index, action] of (project[lifecycle] ?? []).entries()) {
    const needs = [...new Set([...placeholders(JSON.stringify({ with: action.with, env: action.env })), ...fileNeeds(action)])];
    const missing = needs.filter((n) => !env[n]);
    const outputs = missing.length === 0 ? outputsOf(action, env) : {};
    Object.assign(env, outputs);
    steps.push({ lifecycle, index, action, needs, missing, outputs });
    // The Toolkit stops the lifecycle at an action with unresolved placeholders.
    if (missing.length > 0) break;
  }
  return { env, steps };
}

export interface Deployment {
  /** Parameter values after the Toolkit expanded the parameters file (declared defaults for the others). */
  param(name: string): unknown;
  hostName: string;
  keyVaultName: string;
  /** The bicep outputs, by name: what the Toolkit writes to env/.env.<env>. */
  outputs: Record<string, string>;
  /** The App Service settings as the template sets them (Key Vault references unresolved). */
  settings: Record<string, string>;
  /** The bot's environment: the settings with each Key Vault reference replaced by its secret. */
  environment: Record<string, string>;
  /** Key Vault references that name no secret in the vault. */
  unresolved: string[];
  /** The vault's secrets: created by the template, plus those the operator set. */
  secrets: Record<string, string>;
}

export const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(VaultName=([^;]+);SecretName=([^)]+)\)$/;

/**
 * infra/azure.bicep deployed with infra/azure.parameters.json expanded from `env`, as far as it matters to the bot:
 * the parameters, the host name, the vault, the app settings and outputs. `partnerSecretNames` and the secrets the
 * operator put in the vault (by Key Vault secret name) can be given.
 */
export function deployment(
  env: Record<string, string>,
  extra: { params?: Record<string, unknown>; vault?: Record<string, string> } = {},
): Deployment {
  const bicep = new Bicep(read('infra/azure.bicep'));
  const text = expand(read('infra/azure.parameters.json'), env);
  const left = placeholders(text);
  if (left.length) throw new Error(`infra/azure.parameters.json: no value for ${left.join(', ')}`);
  const given = {
    ...Object.fromEntries(
      Object.entries((JSON.parse(text) as { parameters: Record<string, { value: unknown }> }).parameters).map(([k, v]) => [k, v.value]),
    ),
    ...extra.params,
  };
  const declared = bicep.params();
  function param(name: string): unknown {
    const p = declared.get(name);
    if (!p) return undefined;
    if (name in given) return given[name];
    return p.default === undefined ? undefined : evaluate(p.default, scope);
  }
  const resourceBaseName = String(given.resourceBaseName);
  if (bicep.variable('keyVaultName') !== "take('kv${resourceBaseName}${uniqueString(resourceGroup().id)}', 24)") {
    throw new Error('keyVaultName changed in infra/azure.bicep: update the model in test/toolkit/model.ts');
  }
  const keyVaultName = `kv${resourceBaseName}${UNIQUE_STRING}`.slice(0, 24);
  const hostName = `${resourceBaseName}.azurewebsites.net`;
  const resources = bicep.resources();
  function scope(path: string): unknown {
    if (declared.has(path)) return param(path);
    const known: Record<string, string> = {
      keyVaultName,
      'webApp.properties.defaultHostName': hostName,
      'webApp.id': `/subscriptions/${env.AZURE_SUBSCRIPTION_ID}/resourceGroups/${env.AZURE_RESOURCE_GROUP_NAME}/providers/Microsoft.Web/sites/${resourceBaseName}`,
      'keyVault.name': keyVaultName,
    };
    if (path in known) return known[path];
    const named = /^(\w+)\.name$/.exec(path);
    if (named && resources.has(named[1] as string)) return evaluate(bicep.resource(named[1] as string).get('name') as string, scope);
    return undefined;
  }

  const secrets: Record<string, string> = { ...extra.vault };
  for (const [symbol, type] of resources) {
    if (!type.startsWith('Microsoft.KeyVault/vaults/secrets@')) continue;
    const r = bicep.resource(symbol);
    secrets[String(evaluate(r.get('name') as string, scope))] = String(
      evaluate(Bicep.object(r.get('properties')).get('value') as string, scope),
    );
  }

  const settings: Record<string, string> = {};
  const union = /^union\(([\w\s,]+)\)$/.exec(bicep.resource('appSettings').get('properties') ?? '');
  if (!union) throw new Error("appSettings' properties must be union(<vars>) for the model to read them");
  for (const name of (union[1] as string).split(',').map((s) => s.trim())) {
    const expression = bicep.variable(name);
    if (expression.startsWith('{')) {
      for (const [key, value] of bicep.objectVar(name)) settings[key] = String(evaluate(value, scope));
      continue;
    }
    const lambda = /^toObject\(\s*(\w+),\s*(\w+)\s*=>\s*([\s\S]+?),\s*(\w+)\s*=>\s*([\s\S]+)\)$/.exec(expression);
    if (!lambda) throw new Error(`cannot read var ${name} = ${expression}`);
    const [, list, keyVar, keyExpr, valueVar, valueExpr] = lambda as unknown as string[];
    for (const item of scope(list as string) as string[]) {
      const key = String(evaluate(keyExpr as string, (p) => (p === keyVar ? item : scope(p))));
      settings[key] = String(evaluate(valueExpr as string, (p) => (p === valueVar ? item : scope(p))));
    }
  }

  const environment: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const ref = KEY_VAULT_REFERENCE.exec(value);
    if (!ref) {
      environment[key] = value;
    } else if (ref[1] === keyVaultName && (ref[2] as string) in secrets) {
      environment[key] = secrets[ref[2] as string] as string;
    } else {
      // App Service then passes the reference text itself.
      unresolved.push(key);
      environment[key] = value;
    }
  }

  const outputs = Object.fromEntries([...bicep.outputs()].map(([k, v]) => [k.toUpperCase(), String(evaluate(v, scope))]));
  return { param, hostName, keyVaultName, outputs, settings, environment, unresolved, secrets };
}

/** The committed env/.env.<env> file's non-empty values, with TEAMSFX_ENV as the Toolkit sets it. */
export function committedEnv(file: string, envName: string, parse: (text: string) => Record<string, string>): Record<string, string> {
  return { ...Object.fromEntries(Object.entries(parse(read(file))).filter(([, v]) => v !== '')), TEAMSFX_ENV: envName };
}

/** The values m365agents.local.yml's file/createOrUpdateEnvironmentFile writes to .localConfigs, from `env`. */
export function localConfigs(project: Project, env: Record<string, string>): Record<string, string> {
  const step = (project.deploy ?? []).find((a) => a.uses === 'file/createOrUpdateEnvironmentFile');
  const envs = (step?.with?.envs ?? {}) as Record<string, string | number | boolean>;
  return Object.fromEntries(Object.entries(envs).map(([k, v]) => [k, expand(String(v), env)]));
}
