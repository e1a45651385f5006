// Types for stand-in.cjs (kept in step with its JSDoc), so the TypeScript end-to-end support can import it.

/** Where `npm run playground` starts the stand-in unless told otherwise (env/local.env points the bot here). */
export declare const DEFAULT_STAND_IN_PORT: 4100;

export declare function readEnvFile(file: string): Record<string, string>;

/** The environment `npm start` gives the bot: env/local.env, with what is already set in the environment winning. */
export declare function botEnvironment(repoRoot: string, env?: NodeJS.ProcessEnv): Record<string, string | undefined>;

/** The top-level `tenantId` of an Agents Playground config (`.m365agentsplayground.yml`). */
export declare function playgroundTenantId(configFile: string): string;

/** The three settings that point the bot at a stand-in listening at `url`. */
export declare function microsoftEnv(url: string): {
  MICROSOFT_AUTHORITY_HOST: string;
  MICROSOFT_GRAPH_BASE_URL: string;
  MICROSOFT_ADMIN_CENTER_URL: string;
};

export interface StandInTenantOptions {
  repoRoot: string;
  /** Where `clientSecretEnv` secrets are read (secrets: 'environment'). Default process.env. */
  env?: NodeJS.ProcessEnv | Record<string, string | undefined>;
  /** The partners file, relative to repoRoot (the bot's PARTNERS_FILE). */
  partnersFile: string;
  /** The customer Playground instance's `.m365agentsplayground.yml`, relative to repoRoot or absolute. */
  customerConfigFile: string;
  /** 'environment' (default): the secrets the bot will read; 'generate': fresh ones, returned in `secretEnv`. */
  secrets?: 'environment' | 'generate';
}

export interface StandInPartner {
  tenantId: string;
  displayName: string;
  app?: { clientId: string; clientSecret: string };
}

export interface StandInCustomer {
  tenantId: string;
  displayName: string;
  defaultDomainName: string;
}

export declare function standInTenants(options: StandInTenantOptions): {
  partners: StandInPartner[];
  customers: StandInCustomer[];
  secretEnv: Record<string, string>;
  notes: string[];
};

export interface StartedStandIn {
  /** The stand-in's handle (stand-in/types.ts MicrosoftStandIn): `url`, `control`, `close()`, ... */
  standIn: { url: string; close(): Promise<void> };
  url: string;
  /** The partner tenants registered, with their app's client id (never its secret). */
  partners: { tenantId: string; displayName: string; clientId?: string }[];
  customers: StandInCustomer[];
  notes: string[];
  /** MICROSOFT_AUTHORITY_HOST, MICROSOFT_GRAPH_BASE_URL, MICROSOFT_ADMIN_CENTER_URL for this stand-in, plus generated secrets. */
  botEnv: Record<string, string>;
}

export declare function startStandIn(options: StandInTenantOptions & { port?: number; host?: string }): Promise<StartedStandIn>;
