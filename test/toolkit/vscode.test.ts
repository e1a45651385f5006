import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { localConfigs, SAMPLE, simulate, TUNNEL } from './model';
import { expand, parseEnv, read, readJsonc, readProject, REPO_ROOT } from './support';

/**
 * .vscode/launch.json and tasks.json: the three F5 targets, what each runs, and the Teams target's "Start application"
 * command run as VS Code runs it (test/e2e/f5-playground.e2e.test.ts runs the Playground target's).
 */

jest.setTimeout(60_000);

interface Configuration {
  name: string;
  type: string;
  request: string;
  port?: number;
  url?: string;
  preLaunchTask?: string;
  presentation?: { group?: string; hidden?: boolean };
}
interface Compound {
  name: string;
  configurations: string[];
  preLaunchTask?: string;
  presentation?: { group?: string };
}
interface Task {
  label: string;
  type?: string;
  command?: string;
  dependsOn?: string[];
  dependsOrder?: string;
  isBackground?: boolean;
  options?: { cwd?: string };
  args?: {
    env?: string;
    prerequisites?: string[];
    portOccupancy?: number[];
    ports?: { portNumber: number; writeToEnvironmentFile?: Record<string, string> }[];
  };
  problemMatcher?: { background?: { activeOnStart?: boolean; beginsPattern: string; endsPattern: string } } | string;
}

const launch = readJsonc<{ configurations: Configuration[]; compounds: Compound[] }>('.vscode/launch.json');
const tasks = readJsonc<{ tasks: Task[] }>('.vscode/tasks.json').tasks;
const task = (label: string) => {
  const found = tasks.find((t) => t.label === label);
  if (!found) throw new Error(`no task "${label}" in .vscode/tasks.json`);
  return found;
};
/** A task and everything it depends on, in the order VS Code runs them. */
const chain = (label: string): Task[] => {
  const t = task(label);
  return [...(t.dependsOn ?? []).flatMap(chain), ...(t.command ? [t] : [])];
};
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const localEnv = parseEnv(read('env/local.env'));
const attach = launch.configurations.find((c) => c.name === 'Attach to Local Service') as Configuration;
const npmScript = (t: Task) => /^npm run ([\w:-]+)$/.exec(t.command ?? '')?.[1];

/** The ports `npm run playground` uses by default (scripts/playground.mjs): the three instances. */
const playgroundPorts = () => [...read('scripts/playground.mjs').matchAll(/PLAYGROUND_PORT \|\| (\d+)\)/g)].map((m) => Number(m[1]));

describe('.vscode: the three F5 targets', () => {
  const playground = launch.compounds.find((c) => c.presentation?.group === '1-playground');
  const teams = launch.compounds.filter((c) => c.presentation?.group === '2-local');
  const remote = launch.configurations.filter((c) => c.presentation?.group === '3-remote');

  it('offers the Agents Playground, Teams against this machine, and the app deployed in Azure', () => {
    expect(playground?.name).toBe('Debug in Microsoft 365 Agents Playground');
    expect(teams.map((c) => c.name)).toEqual(['Debug in Teams (Edge)', 'Debug in Teams (Chrome)', 'Debug in Teams (Desktop)']);
    expect(remote.map((c) => c.name)).toEqual([
      'View Remote App in Teams (Edge)',
      'View Remote App in Teams (Chrome)',
      'View Remote App in Teams (Desktop)',
    ]);
    // Teams opens the app by its id: the local one for F5, the environment's for the remote app.
    for (const c of launch.configurations.filter((c) => c.url)) {
      expect(c.url).toMatch(
        c.presentation?.group === '3-remote' ? /\/l\/app\/\$\{\{TEAMS_APP_ID\}\}\?/ : /\/l\/app\/\$\{\{local:TEAMS_APP_ID\}\}\?/,
      );
    }
  });

  it('names only configurations and tasks that exist', () => {
    const names = launch.configurations.map((c) => c.name);
    for (const c of launch.compounds)
      for (const n of c.configurations)
        expect({ compound: c.name, n, exists: names.includes(n) }).toEqual({ compound: c.name, n, exists: true });
    for (const label of [...launch.compounds, ...launch.configurations].flatMap((c) => (c.preLaunchTask ? [c.preLaunchTask] : []))) {
      expect(() => chain(label)).not.toThrow();
    }
    for (const t of tasks) if (t.dependsOn) expect(t.dependsOrder).toBe('sequence');
  });

  it('runs each lifecycle file for its environment: playground and local, as the Toolkit picks them', () => {
    const lifecycleTasks = tasks.filter((t) => t.type === 'teamsfx' && (t.command === 'provision' || t.command === 'deploy'));
    for (const t of lifecycleTasks) {
      const env = t.args?.env;
      // fx-core pathUtils.getYmlFilePath: local and playground have their own files, other environments m365agents.yml.
      const file = env === 'local' ? 'm365agents.local.yml' : env === 'playground' ? 'm365agents.playground.yml' : 'm365agents.yml';
      expect({ task: t.label, lifecycle: Boolean(readProject(file)[t.command as 'provision' | 'deploy']) }).toEqual({
        task: t.label,
        lifecycle: true,
      });
    }
    expect(lifecycleTasks.map((t) => `${t.command} ${t.args?.env}`).sort()).toEqual([
      'deploy local',
      'deploy playground',
      'provision local',
    ]);
  });

  it('F5 in the Playground asks for no account and provisions nothing: check, build, the bot, the Playground', () => {
    const steps = chain(playground?.preLaunchTask as string);
    expect(steps.map((t) => (t.type === 'teamsfx' ? `${t.command}${t.args?.env ? ` ${t.args.env}` : ''}` : t.command))).toEqual([
      'debug-check-prerequisites',
      'deploy playground',
      'npm run dev:playground',
      'npm run playground',
    ]);
    expect(steps[0]?.args?.prerequisites).not.toContain('m365Account');
    // Every port the steps open is checked first: the bot, its debugger, the three Playgrounds, the stand-in.
    const standIn = Number(new URL(localEnv.MICROSOFT_AUTHORITY_HOST as string).port);
    expect(playgroundPorts()).toHaveLength(3);
    expect([...(steps[0]?.args?.portOccupancy ?? [])].sort()).toEqual(
      [Number(localEnv.PORT), attach.port, ...playgroundPorts(), standIn].sort(),
    );
  });

  it('F5 in Teams: sign-in check, a tunnel to the bot, provision, deploy, the bot with its debugger', () => {
    for (const compound of teams) {
      const steps = chain(compound.preLaunchTask as string);
      expect(
        steps.slice(0, 5).map((t) => (t.type === 'teamsfx' ? `${t.command}${t.args?.env ? ` ${t.args.env}` : ''}` : t.command)),
      ).toEqual(['debug-check-prerequisites', 'debug-start-local-tunnel local', 'provision local', 'deploy local', 'npm run dev:teams']);
      expect(steps[0]?.args?.prerequisites).toContain('m365Account');
      expect([...(steps[0]?.args?.portOccupancy ?? [])].sort()).toEqual([Number(localEnv.PORT), attach.port].sort());
      // The tunnel forwards the bot's port and writes what m365agents.local.yml reads.
      const tunnel = steps[1]?.args?.ports?.[0];
      expect(tunnel?.portNumber).toBe(Number(localEnv.PORT));
      expect(Object.values(tunnel?.writeToEnvironmentFile ?? {}).sort()).toEqual(Object.keys(TUNNEL).sort());
    }
  });

  it('starts the bot with npm scripts that exist, with the debugger on the port "Attach to Local Service" uses', () => {
    const started = tasks.filter((t) => t.type === 'shell');
    expect(started.map((t) => t.command).sort()).toEqual(['npm run dev:playground', 'npm run dev:teams', 'npm run playground']);
    for (const t of started) {
      const name = npmScript(t) as string;
      expect({ name, exists: name in scripts }).toEqual({ name, exists: true });
      expect(t.isBackground).toBe(true);
      expect(t.options?.cwd).toBe('${workspaceFolder}');
    }
    for (const name of ['dev:playground', 'dev:teams']) {
      expect(scripts[name]).toContain(`--inspect=${attach.port}`);
      expect(scripts[name]).toContain('--env-file=env/local.env');
      expect(scripts[name]).toMatch(/ dist\/src\/index\.js$/);
    }
    // dev:teams adds the file m365agents.local.yml's deploy writes.
    const target = (readProject('m365agents.local.yml').deploy ?? []).find((a) => a.uses === 'file/createOrUpdateEnvironmentFile')?.with
      ?.target;
    expect(scripts['dev:teams']).toContain(`--env-file=${String(target).replace(/^\.\//, '')}`);
  });

  describe('"Start application" for F5 in Teams, run as VS Code runs it', () => {
    const start = task('Start application');
    const matcher = start.problemMatcher as { background: { endsPattern: string } };
    let workspace: string;

    /** A workspace like the repository after the Toolkit's local provision and deploy: .localConfigs and the partners
     * file written from m365agents.local.yml with made-up ids, the built bot linked in. */
    function prepare(dropFromLocalConfigs: string[] = []) {
      workspace = mkdtempSync(join(tmpdir(), 'partner-offers-f5-'));
      copyFileSync(join(REPO_ROOT, 'package.json'), join(workspace, 'package.json'));
      for (const dir of ['dist', 'cards', 'tab', 'node_modules', 'scripts']) symlinkSync(join(REPO_ROOT, dir), join(workspace, dir), 'dir');
      mkdirSync(join(workspace, 'env'));
      copyFileSync(join(REPO_ROOT, 'env', 'local.env'), join(workspace, 'env', 'local.env'));
      const project = readProject('m365agents.local.yml');
      const env = simulate(project, 'provision', { TEAMSFX_ENV: 'local', ...TUNNEL }).env;
      const partners = (project.deploy ?? []).find((a) => a.uses === 'script' && String(a.with?.run).includes('partners-file'));
      execFileSync('sh', ['-c', expand(String(partners?.with?.run), env)], { cwd: workspace, stdio: 'pipe' });
      const values = localConfigs(project, env);
      for (const key of dropFromLocalConfigs) delete values[key];
      writeFileSync(
        join(workspace, '.localConfigs'),
        Object.entries(values)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n') + '\n',
      );
    }
    afterEach(() => rmSync(workspace, { recursive: true, force: true }));

    /** Runs the task's command, as VS Code does in a shell, until its background endsPattern matches a line. */
    async function run(
      port: number,
    ): Promise<{ child: ChildProcess; output: () => string; ended: RegExpMatchArray; exited: Promise<number | null> }> {
      const child = spawn(start.command as string, {
        shell: true,
        cwd: workspace,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? workspace, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const ended = await new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the endsPattern never matched:\n${output}`)), 45_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          const m = output
            .split('\n')
            .map((line) => new RegExp(matcher.background.endsPattern).exec(line))
            .find(Boolean);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        void exited.then(() => setTimeout(() => reject(new Error(`exited before the endsPattern matched:\n${output}`)), 500));
      });
      return { child, output: () => output, ended, exited };
    }

    const portFree = (port: number) =>
      new Promise<boolean>((resolve) => {
        const s = createServer().once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
      });

    it('is ready when the bot listens: a Teams bot (authenticated), its debugger attachable', async () => {
      if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
      expect({ debuggerPort: attach.port, free: await portFree(attach.port as number) }).toEqual({ debuggerPort: attach.port, free: true });
      prepare();
      const port = await freePort();
      const bot = await run(port);
      try {
        expect(bot.ended[0]).toBe('Partner Offers bot listening');
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        const post = await fetch(`http://127.0.0.1:${port}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            channelId: 'msteams',
            serviceUrl: 'https://smba.trafficmanager.net/emea/',
            from: { id: '29:a' },
            recipient: { id: '28:b' },
            conversation: { id: 'c' },
            text: 'help',
          }),
        });
        expect(post.status).toBe(401);
        // What "Attach to Local Service" connects to.
        const targets = (await (await fetch(`http://127.0.0.1:${attach.port}/json/list`)).json()) as { type: string; url: string }[];
        expect(targets).toEqual([expect.objectContaining({ type: 'node', url: expect.stringMatching(/dist\/src\/index\.js$/) })]);
        expect(bot.output()).not.toContain(SAMPLE.SECRET_BOT_PASSWORD);
      } finally {
        process.kill(-(bot.child.pid as number), 'SIGTERM');
        await bot.exited;
      }
    });

    it('ends the wait, and fails, when the settings are incomplete', async () => {
      prepare(['MicrosoftAppTenantId']);
      const bot = await run(await freePort());
      expect(bot.ended[0]).toBe('Invalid configuration');
      expect(await bot.exited).not.toBe(0);
      expect(bot.output()).toContain('MicrosoftAppTenantId is required with MicrosoftAppType=SingleTenant');
    });
  });
});
