import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ignore from 'ignore';
import { freePort } from '../support/free-port';
import { deployment, SAMPLE } from './model';
import { expand, parseEnv, read, readProject, REPO_ROOT } from './support';

/**
 * What `atk deploy` ships and what App Service runs: the zip built from .webappignore exactly as the Toolkit builds it
 * (fx-core driver/deploy: the `ignore` package, every path relative to the project, directories not entered when
 * ignored), unpacked in a fresh folder and started with the startup command and the settings infra/azure.bicep gives.
 */

jest.setTimeout(90_000);

const deploy = readProject('m365agents.yml').deploy ?? [];
const zipDeploy = deploy.find((a) => a.uses === 'azureAppService/zipDeploy');
const toolkitEnv: Record<string, string> = { ...parseEnv(read('env/.env.dev')), ...SAMPLE, TEAMSFX_ENV: 'dev' };

function ignoreRules() {
  const ig = ignore().add('.deployment'); // the Toolkit's own temporary folder
  const file = String(zipDeploy?.with?.ignoreFile);
  for (const line of read(file).split('\n')) ig.add(line.trim());
  return ig;
}

/** The files the Toolkit zips from `root` (artifactFolder `.`). */
function zippedFiles(root = REPO_ROOT): string[] {
  const ig = ignoreRules();
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(root, full);
      if (ig.test(rel).ignored) continue;
      if (statSync(full).isDirectory()) walk(full);
      else files.push(rel.split('\\').join('/'));
    }
  };
  walk(root);
  return files.sort();
}

interface Started {
  child: ChildProcess;
  base: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `npm run <script>` in `cwd` with exactly `env` (plus PATH and HOME for npm), the way App Service starts the app. */
function npmRun(script: string, cwd: string, env: Record<string, string>, port: number): Started {
  const child = spawn('npm', ['run', '--silent', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, started: Started, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (started.child.exitCode !== null)
      throw new Error(`exited (${started.child.exitCode}) before ${what}:\n${started.stderr()}${started.stdout()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms:\n${started.stderr()}${started.stdout()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stop(started: Started) {
  try {
    process.kill(-(started.child.pid as number), 'SIGTERM');
  } catch {
    /* gone */
  }
  return started.exited;
}

describe('the deployed bot: the zip `atk deploy` sends, started as App Service starts it', () => {
  it('ships the built bot and what it reads at run time, and nothing else: no sources, env files, data or node_modules', () => {
    const files = zippedFiles();
    const cards = readdirSync(join(REPO_ROOT, 'cards')).filter((f) => f.endsWith('.json'));
    for (const needed of [
      'package.json',
      'package-lock.json',
      'dist/src/index.js',
      'dist/src/directory/default-catalog.json',
      'dist/tab/main.js',
      'tab/public/index.html',
      'env/partners.sample.json',
      ...cards.map((c) => `cards/${c}`),
    ]) {
      expect({ needed, shipped: files.includes(needed) }).toEqual({ needed, shipped: true });
    }
    const ig = ignoreRules();
    // The partners file the deploy step writes (PARTNERS_FILE in env/.env.dev) ships too.
    expect(ig.ignores(toolkitEnv.PARTNERS_FILE as string)).toBe(false);
    for (const never of [
      'node_modules/restify/package.json',
      'src/index.ts',
      'test/config.test.ts',
      'env/.env.dev',
      'env/.env.dev.user',
      'env/.env.local',
      'env/local.env',
      'env/example.env',
      '.localConfigs',
      '.env',
      'data/partner-offers.sqlite',
      'dist/stand-in/index.js',
      'dist/src/index.js.map',
      'm365agents.yml',
      'infra/azure.bicep',
      'manifest/manifest.json',
      'build/appPackage.dev.zip',
      '.git/config',
      '.vscode/tasks.json',
    ]) {
      expect({ never, ignored: ig.ignores(never) }).toEqual({ never, ignored: true });
    }
    expect(files.filter((f) => !/^(dist\/(src|tab)\/|cards\/|tab\/public\/|env\/[^/]+\.json$|package(-lock)?\.json$)/.test(f))).toEqual([]);
  });

  it('needs at run time only the production dependencies App Service installs (npm ci --omit=dev)', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const required = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.js')) {
          for (const m of readFileSync(full, 'utf8').matchAll(/require\("([^"]+)"\)/g)) required.add(m[1] as string);
        }
      }
    };
    walk(join(REPO_ROOT, 'dist', 'src'));
    const packages = [...required]
      .filter((r) => !r.startsWith('.') && !r.startsWith('node:') && !builtinModules.includes(r))
      .map((r) => (r.startsWith('@') ? r.split('/').slice(0, 2).join('/') : (r.split('/')[0] as string)));
    expect(packages.length).toBeGreaterThan(5);
    expect([...new Set(packages)].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  describe('unpacked in a fresh folder', () => {
    let app: string;
    beforeAll(() => {
      if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
      app = mkdtempSync(join(tmpdir(), 'partner-offers-wwwroot-'));
      for (const file of zippedFiles()) {
        mkdirSync(dirname(join(app, file)), { recursive: true });
        copyFileSync(join(REPO_ROOT, file), join(app, file));
      }
      // App Service's `npm ci --omit=dev` would create node_modules here; these tests use the installed one.
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
      // The deploy step that writes PARTNERS_FILE, run as the Toolkit runs it (in the project, before the zip).
      const step = deploy.find((a) => a.uses === 'script' && String(a.with?.run).includes('partners-file'));
      symlinkSync(join(REPO_ROOT, 'scripts'), join(app, 'scripts'), 'dir');
      execFileSync('sh', ['-c', expand(String(step?.with?.run), toolkitEnv)], { cwd: app, stdio: 'pipe' });
      rmSync(join(app, 'scripts'));
    });
    afterAll(() => rmSync(app, { recursive: true, force: true }));

    /** The App Service environment infra/azure.bicep sets, without MongoDB: none runs here, and the bot then uses
     * SQLite under ./data, which config allows (Azure itself requires MONGODB_URI: infra.test.ts). */
    const appServiceEnvironment = () => {
      const { MONGODB_URI: _none, ...environment } = deployment(toolkitEnv).environment;
      return environment;
    };

    it('`npm run start:prod` boots the built bot: healthy, ready for the health check, authenticating Teams, serving the tab', async () => {
      const started = npmRun('start:prod', app, appServiceEnvironment(), await freePort());
      try {
        const health = await until(
          '/healthz',
          async () => {
            const r = await fetch(`${started.base}/healthz`);
            return r.ok ? ((await r.json()) as unknown) : undefined;
          },
          started,
        );
        expect(health).toEqual({ status: 'ok' });
        const ready = await fetch(`${started.base}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual(expect.objectContaining({ status: 'ready', store: 'sqlite' }));
        // An app id is set: a request without a Bot Framework token is refused.
        const unauthenticated = await fetch(`${started.base}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            channelId: 'msteams',
            serviceUrl: 'https://smba.trafficmanager.net/emea/',
            from: { id: '29:someone' },
            recipient: { id: `28:${SAMPLE.BOT_ID}` },
            conversation: { id: 'a:conversation' },
            text: 'help',
          }),
        });
        expect(unauthenticated.status).toBe(401);
        const tab = await fetch(`${started.base}/tab/index.html`);
        expect([tab.status, tab.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
        expect((await fetch(`${started.base}/tab/main.js`)).status).toBe(200);
        // pino JSON lines; the generated partner registered; the secret never logged.
        const lines = started
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.find((l) => l.msg === 'Partner Offers bot listening')).toEqual(
          expect.objectContaining({ localMode: false, store: 'sqlite', partners: 1 }),
        );
        expect(started.stdout() + started.stderr()).not.toContain(SAMPLE.SECRET_BOT_PASSWORD);
        expect(existsSync(join(app, 'data', 'partner-offers.sqlite'))).toBe(true);
      } finally {
        await stop(started);
      }
      expect(started.stdout()).toContain('shutting down');
    });

    it('refuses to start with NODE_ENV=production and no app id, saying which setting is missing', async () => {
      const { MicrosoftAppId: _none, ...environment } = appServiceEnvironment();
      const started = npmRun('start:prod', app, environment, await freePort());
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([started.exited, new Promise((r) => (timer = setTimeout(() => r('still running'), 30_000)))]);
      clearTimeout(timer);
      if (code === 'still running') await stop(started);
      expect(code).toBe(1);
      expect(started.stderr()).toContain('MicrosoftAppId is required when NODE_ENV=production');
    });
  });
});
