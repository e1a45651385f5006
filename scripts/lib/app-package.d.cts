// Types for app-package.cjs (kept in step with its JSDoc), so TypeScript tests can import it.

export declare class AppPackageError extends Error {
  constructor(message: string, details?: string[]);
  /** One entry per problem, also listed in `message`. */
  readonly details: string[];
}

/** Fixed development ids used for the `local` environment when no real ids are set. */
export declare const DEV_IDS: Readonly<{ TEAMS_APP_ID: string; BOT_ID: string }>;

/** Pixel size Teams requires for each kind of icon. */
export declare const ICON_SIZES: Readonly<{ color: 192; outline: 32; color32x32: 32 }>;

export declare function parseEnvFile(text: string): Record<string, string>;

export declare function envNameFromFile(envFile: string, fileVars?: Record<string, string>): string;

export declare function sanitizeEnvName(name: string): string;

export declare function resolvePlaceholderValues(options?: {
  env?: Record<string, string | undefined>;
  fileVars?: Record<string, string>;
  envName?: string;
}): { values: Record<string, string>; warnings: string[] };

export declare function listPlaceholders(text: string): string[];

export declare function substitutePlaceholders(text: string, values: Record<string, string>): string;

export declare function shippedSchemaPath(schemaUrl: string): string;

export declare function validateManifest(manifest: Record<string, unknown>): Promise<string[]>;

export declare function readPngSize(buf: Buffer): { width: number; height: number };

export declare function readIcons(
  manifest: Record<string, unknown>,
  dir: string,
): { files: Array<{ name: string; data: Buffer }>; errors: string[] };

export declare function buildAppPackage(options: {
  manifestPath: string;
  values: Record<string, string>;
  outFile: string;
}): Promise<{ outFile: string; entries: string[]; manifest: Record<string, unknown> }>;
