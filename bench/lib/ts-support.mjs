// Loads one of the tests' TypeScript support modules (test/support/sso.ts, test/e2e/support/teams-host.ts) into a
// bench script, so the bench drives the tab exactly as the browser test does without a copy of that code. The
// modules only import Node built-ins and npm packages, so transpiling the one file is enough.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const ts = require('typescript');

export function loadTestSupport(relativePath) {
  const file = resolve(root, relativePath);
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: file,
  });
  const module = { exports: {} };
  const localRequire = createRequire(file);
  new Function('exports', 'require', 'module', '__filename', '__dirname', outputText)(
    module.exports,
    localRequire,
    module,
    file,
    dirname(file),
  );
  return module.exports;
}
