// Summarises a V8 .cpuprofile (from `BENCH_PROFILE=<dir> node bench/card-action.mjs`):
//   node bench/profile-summary.mjs <dir>/bot.cpuprofile [--phase <name> | --from <ms> --to <ms>] [--top 30]
// Prints self time by package / app file, the top self-time functions, and inclusive time of the frames that matter
// for a card action (synchronous parts only: async functions' stacks end at each await).
// --phase restricts to one phase of the run (warmup, throughput, latency, or <phase>-drain for the real bot's outbox
// delivery after it), from the phases.json card-action.mjs writes next to the profiles; --from/--to to a window in
// ms since the profile started.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const args = process.argv.slice(2);
const profileFile = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!profileFile) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--phase name | --from ms --to ms] [--top n]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
let from = Number(opt('from') ?? -Infinity);
let to = Number(opt('to') ?? Infinity);
const top = Number(opt('top') ?? 30);
const phaseName = opt('phase');
if (phaseName) {
  const phasesFile = join(dirname(profileFile), 'phases.json');
  if (!existsSync(phasesFile)) throw new Error(`--phase needs ${phasesFile} (written by card-action.mjs when profiling)`);
  const server = basename(profileFile, '.cpuprofile');
  const w = JSON.parse(readFileSync(phasesFile, 'utf8')).find((p) => p.server === server && p.phase === phaseName);
  if (!w) throw new Error(`no phase ${phaseName} for ${server} in ${phasesFile}`);
  from = (w.startUs - profile.startTime) / 1000;
  to = (w.endUs - profile.startTime) / 1000;
}
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample timeline, restricted to the window.
const selfUs = new Map();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const ms = t / 1000;
  if (ms < from || ms > to) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}

const where = (cf) => {
  const url = cf.url ?? '';
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const app = /\/dist\/src\/(.+)$/.exec(url);
  if (app) return `app: ${app[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
};
const file = (cf) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(cf.url ?? '');
  return m ? `${m[1]}/${m[2]}` : where(cf);
};
const key = (cf) => `${cf.functionName || '(anonymous)'} ${file(cf)}:${cf.lineNumber + 1}`;

const add = (map, k, v) => map.set(k, (map.get(k) ?? 0) + v);
const byPackage = new Map();
const byFunction = new Map();
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  add(byPackage, where(n.callFrame), us);
  add(byFunction, key(n.callFrame), us);
  // Inclusive: every distinct function on the stack gets this sample once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur).callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    add(inclusive, k, us);
  }
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const show = (title, map, n, filter = () => true) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n))
    console.log(`${pct(us)} ${ms(us)}  ${k}`);
};

console.log(`${profileFile}${phaseName ? ` phase ${phaseName}` : ''}: ${(total / 1e6).toFixed(1)} s of samples in the window`);
show('Self time by package / app file', byPackage, top);
show('Top functions by self time', byFunction, top);
show('Inclusive time, app code and the framework frames around it', inclusive, top, (k) =>
  /app: |restify|botbuilder|botframework|better-sqlite3|adaptivecards|adaptive-expressions|zod|pino|node:http|node-fetch|axios|@azure/.test(
    k,
  ),
);
