import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { readJsonc, readProject } from '../toolkit/support';
import { REPO_ROOT, cards, launchBrowser, screenshot, sendMessage, waitForCardText, type E2EBrowser } from './support/playground';

/**
 * F5 "Debug in Microsoft 365 Agents Playground" without VS Code: the steps of its preLaunchTask, in order, as VS Code
 * and the Agents Toolkit run them: the prerequisites, the Toolkit's deploy of m365agents.playground.yml, then each
 * shell task until its problem matcher's endsPattern says it is ready. Then what the launch configuration does
 * (attach the debugger) and what a developer does next: open the partner Playground and talk to the bot.
 * The commands are the tasks' own; only the ports are moved, through the environment both scripts read, so a bot
 * or Playground already running on this machine does not get in the way.
 */

interface Task {
  label: string;
  type?: string;
  command?: string;
  dependsOn?: string[];
  args?: { env?: string; prerequisites?: string[]; portOccupancy?: number[] };
  problemMatcher?: { background?: { beginsPattern: string; endsPattern: string } } | string;
}
interface Launch {
  configurations: { name: string; port?: number }[];
  compounds: { name: string; configurations: string[]; preLaunchTask?: string }[];
}

const tasks = readJsonc<{ tasks: Task[] }>('.vscode/tasks.json').tasks;
const launch = readJsonc<Launch>('.vscode/launch.json');
const chain = (label: string): Task[] => {
  const t = tasks.find((x) => x.label === label) as Task;
  return [...(t.dependsOn ?? []).flatMap(chain), ...(t.command ? [t] : [])];
};

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

interface Background {
  task: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts a background shell task and waits, as VS Code does, until a line matches its endsPattern. */
function startBackground(task: Task, env: NodeJS.ProcessEnv): Promise<Background & { ended: string }> {
  const matcher = task.problemMatcher as { background: { endsPattern: string } };
  const child = spawn(task.command as string, { shell: true, cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`"${task.label}" never matched ${matcher.background.endsPattern}:\n${output}`)),
      120_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const line = output.split('\n').find((l) => new RegExp(matcher.background.endsPattern).test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve({ task: task.label, child, output: () => output, ended: line });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`"${task.label}" exited (${code}) before it was ready:\n${output}`));
    });
  });
}

async function stopAll(started: Background[]) {
  for (const s of started.reverse()) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    const exited = new Promise((r) => s.child.once('exit', r));
    // Ctrl-C in the task's terminal: npm run playground stops its instances and the stand-in on SIGINT.
    process.kill(-(s.child.pid as number), 'SIGINT');
    const timer = setTimeout(() => process.kill(-(s.child.pid as number), 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describe('F5 "Debug in Microsoft 365 Agents Playground", step by step', () => {
  const compound = launch.compounds.find((c) => c.name === 'Debug in Microsoft 365 Agents Playground');
  const attach = launch.configurations.find((c) => c.name === compound?.configurations[0]);
  const started: Background[] = [];
  let browser: E2EBrowser | undefined;
  let home: string;

  afterAll(async () => {
    await browser?.close();
    await stopAll(started);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('builds, starts the bot and the Playground, attaches the debugger, and the partner talks to the bot', async () => {
    const steps = chain(compound?.preLaunchTask as string);
    expect(steps.length).toBe(4);
    const [bot, partner, customer, partner2, standIn] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    home = mkdtempSync(join(tmpdir(), 'partner-offers-f5-data-'));
    const standInUrl = `http://127.0.0.1:${standIn}`;
    // Only ports and the data folder move; everything else comes from env/local.env, as on F5.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(bot),
      DATA_DIR: home,
      PARTNER_PLAYGROUND_PORT: String(partner),
      CUSTOMER_PLAYGROUND_PORT: String(customer),
      PARTNER2_PLAYGROUND_PORT: String(partner2),
      MICROSOFT_AUTHORITY_HOST: standInUrl,
      MICROSOFT_GRAPH_BASE_URL: `${standInUrl}/v1.0`,
      MICROSOFT_ADMIN_CENTER_URL: standInUrl,
      MicrosoftAppId: '',
      MONGODB_URI: '',
    };

    for (const step of steps) {
      if (step.type === 'teamsfx' && step.command === 'debug-check-prerequisites') {
        // nodejs: this is Node; portOccupancy: the ports this run uses, and the debugger's, which cannot move.
        expect(step.args?.prerequisites).toEqual(['nodejs', 'portOccupancy']);
        expect(step.args?.portOccupancy).toContain(attach?.port);
        for (const port of [bot, partner, customer, partner2, standIn, attach?.port as number]) {
          expect({ port, free: await portFree(port) }).toEqual({ port, free: true });
        }
      } else if (step.type === 'teamsfx' && step.command === 'deploy') {
        // The Toolkit runs m365agents.playground.yml's deploy. `npm install` is left out: this checkout is installed
        // (npm ci) and a second install would change nothing; every other action runs as written.
        expect(step.args?.env).toBe('playground');
        for (const action of readProject('m365agents.playground.yml').deploy ?? []) {
          expect(action.uses).toBe('cli/runNpmCommand');
          const args = String(action.with?.args).split(' ');
          if (args[0] === 'install') continue;
          const run = spawnSync('npm', args, { cwd: REPO_ROOT, env, encoding: 'utf8', shell: process.platform === 'win32' });
          expect({ action: action.name, status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
            action: action.name,
            status: 0,
            stderr: '',
          });
        }
      } else if (step.type === 'shell') {
        const s = await startBackground(step, env);
        started.push(s);
        expect({ task: s.task, failed: /failed to start|Invalid configuration|^playground: /.test(s.ended) }).toEqual({
          task: s.task,
          failed: false,
        });
      } else {
        throw new Error(`a step this test does not know how to run: ${JSON.stringify(step)}`);
      }
    }

    // The launch configuration: VS Code attaches to the bot's inspector.
    const targets = (await (await fetch(`http://127.0.0.1:${attach?.port}/json/list`)).json()) as { type: string; url: string }[];
    expect(targets).toEqual([expect.objectContaining({ type: 'node', url: expect.stringMatching(/dist\/src\/index\.js$/) })]);

    // npm run playground printed where to go; the partner window talks to the bot in local mode.
    const printed = started[1]?.output() ?? '';
    const partnerUrl = /^\s*partner\s+(http:\/\/localhost:\d+\/)/m.exec(printed)?.[1];
    expect(partnerUrl).toBe(`http://localhost:${partner}/`);
    expect(printed).toContain(`bot http://127.0.0.1:${bot}/api/messages`);
    expect(printed).not.toContain('NOT reachable');
    browser = await launchBrowser();
    const page = await browser.open(partnerUrl as string);
    // The bot greets on install with the same card, so the answer to `help` is one more of it.
    const helpCard = 'Partner Offers for Fabrikam Cloud Partners';
    const before = await cards(page, helpCard).count();
    await sendMessage(page, 'help');
    await waitForCardText(page, helpCard, 30_000);
    for (let i = 0; (await cards(page, helpCard).count()) < before + 1; i++) {
      if (i > 150) throw new Error(`no answer to help: ${before} card(s) before, still ${await cards(page, helpCard).count()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await screenshot(page, '23-f5-playground-help');
  });
});
