import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MicrosoftApp } from '../../directory/microsoft';

/** What msal-node needs to prove the app's identity: a client secret, or a certificate's private key and thumbprint. */
export type ClientCredential =
  { clientSecret: string } | { clientCertificate: { privateKey: string; thumbprintSha256?: string; thumbprint?: string } };

/** Why a partner's credential could not be read; the message names the variable or file, never what is in it. */
export class CredentialUnavailableError extends Error {
  override name = 'CredentialUnavailableError';
}

/** Where secrets are read from, at every use: the environment the composition root hands over, and files. */
export interface CredentialSources {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => string;
}

/**
 * The sources for a running bot: `env` is the process environment, passed in by the composition root (src/index.ts
 * reads the environment; nothing below it does), and files are read from disk.
 */
export const secretSources = (env: NodeJS.ProcessEnv): CredentialSources => ({ env, readFile: (path) => readFileSync(path, 'utf8') });

/**
 * Reads the partner's secret or certificate now, from where the partners file says it is. Nothing is kept here: the
 * caller hands it to msal-node and keeps only `fingerprint`, to notice a rotated secret.
 */
export function readCredential(app: MicrosoftApp, sources: CredentialSources): { credential: ClientCredential; fingerprint: string } {
  const source = app.credential;
  switch (source.kind) {
    case 'secretEnv': {
      const secret = sources.env[source.name]?.trim();
      if (!secret) throw new CredentialUnavailableError(`the environment variable ${source.name} (clientSecretEnv) is not set`);
      return { credential: { clientSecret: secret }, fingerprint: digest(secret) };
    }
    case 'secretFile': {
      const secret = read(sources, source.path, 'clientSecretFile').trim();
      if (!secret) throw new CredentialUnavailableError(`the clientSecretFile ${source.path} is empty`);
      return { credential: { clientSecret: secret }, fingerprint: digest(secret) };
    }
    case 'certificate': {
      const pem = read(sources, source.path, 'certificateFile');
      if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
        throw new CredentialUnavailableError(
          `the private key in certificateFile ${source.path} is encrypted; msal-node needs it unencrypted (protect the file instead)`,
        );
      }
      const privateKey = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
      if (!privateKey) throw new CredentialUnavailableError(`certificateFile ${source.path} holds no PEM private key`);
      const thumbprint = source.thumbprint ?? certificateThumbprint(pem, source.path);
      return {
        credential: {
          clientCertificate: thumbprint.length === 64 ? { privateKey, thumbprintSha256: thumbprint } : { privateKey, thumbprint },
        },
        fingerprint: digest(`${thumbprint}\n${privateKey}`),
      };
    }
  }
}

function read(sources: CredentialSources, path: string, key: string): string {
  try {
    return sources.readFile(path);
  } catch (err) {
    throw new CredentialUnavailableError(`cannot read ${key} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The SHA-256 thumbprint of the certificate in the PEM file, for a partners entry that gives none. */
function certificateThumbprint(pem: string, path: string): string {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!cert) {
    throw new CredentialUnavailableError(
      `certificateFile ${path} has no certificate to take the thumbprint from: add it, or set certificateThumbprint`,
    );
  }
  return new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase();
}

const digest = (s: string) => createHash('sha256').update(s).digest('hex');
