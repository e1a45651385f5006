// `npm run bench:notify`: delivery of a backlog of notifications by the real deliverer and Bot Connector sender, over
// HTTP, to a connector sink that injects 429 (Retry-After: 1) and 503 answers from a seeded plan. See bench/RESULTS.md.
//
// Processes: this orchestrator (timing, checks, the ideal-sender simulation), bench/lib/notify-sink.mjs (the Bot
// Connector: answers and records every request), bench/lib/notify-bot.mjs (createApp from dist/ on a SQLite store in
// a temp dir; its deliverer is started per run).
//
// Per run: the bot issues `tenants x conversations x perConversation` offers through the offer service (each queues
// the real outbox entry that sends the offer card to the approver's 1:1 chat), all in one go so the running deliverer
// sees none of them before the last, then kicks the deliverer; the run ends when every entry has been answered 200 at
// the sink and is marked sent in the store (or nothing moved for a long while). One warm-up run of the same shape
// (fewer tenants) first; then the measured runs, each on conversations and tenants of its own, with the same fault
// plan (faults are keyed by each entry's logical position and attempt number, so every run and the ideal sender see
// the same ones). The ideal sender and the lower bound are bench/lib/notify-ideal.mjs; the plan bench/lib/notify-faults.mjs.
//
// Environment (for development; RESULTS.md is written only with the defaults and without profiling):
//   BENCH_TENANTS, BENCH_CONVERSATIONS, BENCH_PER_CONVERSATION, BENCH_RUNS, BENCH_WARMUP_TENANTS, BENCH_FAULT_SEED
//   BENCH_PROFILE=<dir>  run the bot with --cpu-prof into <dir>/bot.cpuprofile, and write <dir>/phases.json
//                        (node bench/profile-summary.mjs <dir>/bot.cpuprofile --phase run1)
//   BENCH_DUMP=<dir>     write each run's sink records and the ideal schedules as JSON
//   BENCH_DIST=<dir>     load the bot from another build (a patched copy of dist/, for experiments)
//   BENCH_POLL_MS=<ms>   the deliverer's poll interval (experiments; production uses createApp's default, 1 s)
import { appendSection, updateResultsFile } from './lib/results-file.mjs';
import { execFileSync } from 'node:child_process';
import { killChildren, startChild } from './lib/children.mjs';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainOf, DEFAULT_SEED, logicalKey, P_429, P_503, RETRY_AFTER_S } from './lib/notify-faults.mjs';
import { bestSchedule, lowerBound } from './lib/notify-ideal.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const DEFAULTS = { tenants: 20, conversations: 10, perConversation: 10, runs: 3, warmupTenants: 2, faultSeed: DEFAULT_SEED };
const P = {
  tenants: Number(process.env.BENCH_TENANTS ?? DEFAULTS.tenants),
  conversations: Number(process.env.BENCH_CONVERSATIONS ?? DEFAULTS.conversations),
  perConversation: Number(process.env.BENCH_PER_CONVERSATION ?? DEFAULTS.perConversation),
  runs: Number(process.env.BENCH_RUNS ?? DEFAULTS.runs),
  warmupTenants: Number(process.env.BENCH_WARMUP_TENANTS ?? DEFAULTS.warmupTenants),
  faultSeed: Number(process.env.BENCH_FAULT_SEED ?? DEFAULTS.faultSeed),
};
/** The order offers are issued in across conversations (a seeded shuffle, the same in every run). */
const ORDER_SEED = 7;
const N = P.tenants * P.conversations * P.perConversation;
const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
const dumpDir = process.env.BENCH_DUMP ? resolve(process.env.BENCH_DUMP) : undefined;
const isDefault =
  Object.entries(DEFAULTS).every(([k, v]) => P[k] === v) && !profileDir && !process.env.BENCH_POLL_MS && !process.env.BENCH_DIST;
/** No request for this long while entries are outstanding: the run is over, and what is left is lost. */
const STALL_MS = 90_000;
/** The deliverer's limiter widens every window by this much (createDeliverer's rateMarginMs default). */
const DELIVERER_MARGIN_MS = 20;
/**
 * Goals (issue 18): total within 1.1x of the fastest any sender can do under Teams' rules (a 429 holds its whole
 * conversation for its Retry-After, each conversation's messages in order), and the bot's CPU per notification.
 */
const GOALS = { lost: 0, duplicates: 0, ratio: 1.1, cpuPerNotificationMs: 0.5 };
/**
 * The larger run: 100,000 notifications to 10,000 conversations in 1,000 tenants, one run after the small ones, in the
 * same bot process. BENCH_LARGE=0 skips it; BENCH_LARGE_TENANTS makes it smaller (RESULTS.md only at the default).
 */
const LARGE = {
  tenants: Number(process.env.BENCH_LARGE_TENANTS ?? 1000),
  enabled: process.env.BENCH_LARGE !== '0',
};
const LARGE_DEFAULT_TENANTS = 1000;
/**
 * RSS goals for the larger run. The deliverer holds at most `batch` (100) claimed entries and `concurrency` (32)
 * requests; the limiter's memory follows the conversations used in its longest window. Nothing it keeps grows with the
 * backlog, so its live memory must not either. Flat: RSS after a full GC at 50%, 75% and 100% of the entries delivered
 * at most 10% above the same reading at 25%. Peak: the highest RSS sampled (every 100 ms, no GC forced) at most 2x the
 * bot idle with the backlog queued; between major collections V8 lets the heap grow to about twice what is live, and
 * the idle figure is mostly code and the SQLite cache, so 2x leaves the garbage of a busy event loop its headroom
 * while anything that grew with the 100,000 entries would exceed it.
 */
const RSS_GOALS = { peakOverIdle: 2, flat: 1.1 };
/** When the larger run takes the bot's live memory (a full GC, then RSS and heap used), as fractions delivered. */
const CHECKPOINTS = [0.25, 0.5, 0.75];

const { TEAMS_RATE_LIMITS } = require(join(root, 'dist/src/notifications/rate-limit.js'));

/** Which code was measured: the commit, and whether src/ or cards/ (and the notification path) had uncommitted changes. */
function codeVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    const dirty = git('status', '--porcelain', '--', 'src', 'cards').split('\n').filter(Boolean);
    const path = ['src/notifications', 'src/offers', 'src/store/sqlite', 'src/app.ts', 'cards/offer.json'];
    const pathDirty = git('status', '--porcelain', '--', ...path)
      .split('\n')
      .filter(Boolean);
    const commit = git('rev-parse', '--short', 'HEAD');
    const text =
      `commit ${commit} ("${git('log', '-1', '--format=%s')}")` +
      (dirty.length
        ? `, with ${dirty.length} uncommitted change(s) under src/ or cards/ (${pathDirty.length ? `${pathDirty.length} on the delivery path: ${pathDirty.map((l) => l.slice(3)).join(', ')}` : 'none on the delivery path: src/notifications, src/offers, the SQLite store, src/app.ts, cards/offer.json'})`
        : '');
    return { text, commit: commit + (dirty.length ? '+' : '') };
  } catch {
    return { text: 'unknown (not a git checkout)', commit: '?' };
  }
}
const CODE = codeVersion();

// --- children ----------------------------------------------------------------------------------------------------

const start = (file, name, options) => startChild(file, name, { readyTimeoutMs: 120_000, ...options });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- measuring ---------------------------------------------------------------------------------------------------

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const log = (s) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Machine-wide busy CPU ms from /proc/stat (Linux), so load from other processes on the machine shows up. */
function machineBusyMs() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** RSS of a process as the OS sees it, from /proc (Linux); NaN elsewhere. */
function rssMbOf(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/**
 * The most requests that arrived within any `windowMs` for one key, and which key: windows are [t, t + windowMs), as
 * the deliverer's limiter counts them (requests exactly one window apart do not share one).
 */
function peakRate(records, keyOf, windowMs) {
  const byKey = new Map();
  for (const r of records) {
    const key = keyOf(r);
    if (key === undefined) continue;
    let times = byKey.get(key);
    if (!times) byKey.set(key, (times = []));
    times.push(r.at);
  }
  let best = { key: undefined, count: 0, at: NaN };
  for (const [key, times] of byKey) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + windowMs) j++;
      if (j - i > best.count) best = { key, count: j - i, at: times[i] };
    }
  }
  return best;
}

/** New lines of the bot's log file since the last call. */
function logReader(file) {
  let offset = 0;
  return () => {
    const text = readFileSync(file, 'utf8');
    const fresh = text.slice(offset);
    const end = fresh.lastIndexOf('\n') + 1;
    offset += end;
    return fresh
      .slice(0, end)
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
  };
}

/** Entries for the ideal sender: logical key, conversation and tenant (by position), queue order, planned chain. */
function idealEntries(seeded, waitsByKey) {
  return seeded.map((e, order) => ({
    key: e.key,
    conversation: `t${e.t}-c${e.c}`,
    tenant: `t${e.t}`,
    order,
    chain: chainOf(P.faultSeed, e.key),
    ...(waitsByKey ? { waits: waitsByKey.get(e.key) } : {}),
  }));
}

// --- one run -----------------------------------------------------------------------------------------------------

/** Every offer id handed out in this process: the runs share one store, so a later run must not reuse an earlier's. */
const usedOfferIds = new Set();

/** Offer ids for a run, by logical key: the usual shape (T- for trials, P- for purchase offers), distinct. */
function offerIdsFor(run, tenants) {
  const alphabet = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
  const out = {};
  const used = usedOfferIds;
  let x = 0x9e3779b9 ^ [...run].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 0x01000193), 0x811c9dc5);
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % alphabet.length;
  };
  for (let t = 0; t < tenants; t++)
    for (let c = 0; c < P.conversations; c++)
      for (let n = 0; n < P.perConversation; n++) {
        let id;
        do id = `${n % 5 === 0 ? 'T' : 'P'}-${Array.from({ length: 6 }, () => alphabet[next()]).join('')}`;
        while (used.has(id));
        used.add(id);
        out[logicalKey(t, c, n)] = id;
      }
  return out;
}

/** The smallest and largest of many values (Math.min(...xs) overflows the stack on 100k values). */
function extent(xs) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return { lo, hi };
}

async function run(name, tenants, { bot, sink, readLog, windows }, { large = false } = {}) {
  const size = tenants * P.conversations * P.perConversation;
  const offerIds = offerIdsFor(name, tenants);
  // The sink knows every entry before the first request; then the bot queues the backlog and kicks its deliverer.
  await sink.ask('plan', { seed: P.faultSeed, keys: Object.fromEntries(Object.entries(offerIds).map(([key, id]) => [id, key])) });
  await bot.ask('gc');
  readLog(); // earlier lines
  const sinkCpu0 = await sink.ask('cpu');
  const own0 = process.cpuUsage();
  const rssBeforeSeed = rssMbOf(bot.child.pid);
  const seeded = await bot.ask('seed', {
    run: name,
    tenants,
    conversations: P.conversations,
    perConversation: P.perConversation,
    orderSeed: ORDER_SEED,
    sinkUrl: sink.url,
    offerIds,
  });
  const go = seeded.kick;
  const startUs = go.us;
  const entries = seeded.entries;
  const byOffer = new Map(entries.map((e) => [e.offerId, e]));
  let rssPeak = rssMbOf(bot.child.pid);
  /** RSS samples with the entries delivered so far, for the larger run's flatness check. */
  const rssSamples = [];
  let deliveredSoFar = 0;
  const rssTimer = setInterval(() => {
    const rss = rssMbOf(bot.child.pid);
    rssPeak = Math.max(rssPeak, rss);
    rssSamples.push({ rss, delivered: deliveredSoFar });
  }, 100);

  // Until the sink has answered 200 to every entry (or nothing arrives for STALL_MS), then until the store has them all
  // marked sent (the bot marks an entry after its answer), or failed.
  let lastArrivals = -1;
  let lastChange = performance.now();
  let stalled = false;
  const checkpoints = [];
  for (;;) {
    const p = await sink.ask('progress');
    deliveredSoFar = p.delivered;
    if (p.delivered >= size) break;
    const due = large ? CHECKPOINTS.find((f) => p.delivered >= f * size && !checkpoints.some((c) => c.fraction === f)) : undefined;
    if (due !== undefined) checkpoints.push({ fraction: due, ...(await bot.ask('memory')) });
    if (p.arrivals !== lastArrivals) [lastArrivals, lastChange] = [p.arrivals, performance.now()];
    if (performance.now() - lastChange > STALL_MS) {
      const s = await bot.ask('states', { offerIds: entries.map((e) => e.offerId) });
      if (s.counts.pending === 0) break; // everything not delivered has failed
      stalled = true;
      break;
    }
    await sleep(20);
  }
  // CPU and time up to here: every entry answered (the last few may still be being marked sent).
  const deliveredUs = nowUs();
  const own = process.cpuUsage(own0);
  const cpu = {
    bot: (await bot.ask('cpu')) - go.cpuMs,
    sink: (await sink.ask('cpu')) - sinkCpu0,
    machine: machineBusyMs() - go.machineMs,
    orchestrator: (own.user + own.system) / 1000,
  };
  cpu.others = Math.max(0, cpu.machine - cpu.bot - cpu.sink - cpu.orchestrator);
  let states;
  for (let i = 0; ; i++) {
    states = await bot.ask('states', { offerIds: entries.map((e) => e.offerId) });
    if (states.counts.pending === 0 || stalled || i >= 200) break;
    await sleep(50);
  }
  const endUs = nowUs();
  const settledMs = (endUs - startUs) / 1000;
  clearInterval(rssTimer);
  if (large) checkpoints.push({ fraction: 1, ...(await bot.ask('memory')) });
  rssPeak = Math.max(rssPeak, rssMbOf(bot.child.pid));
  await sleep(1_000); // anything sent after the run would show as a duplicate or an unexpected request
  const { records: all, timeOrigin: sinkOrigin } = await sink.ask('records');
  windows.push({ server: 'bot', phase: name, startUs, endUs });

  // What the sink saw.
  const sends = all.filter((r) => !r.other);
  const ok = sends.filter((r) => r.status === 200 && r.key !== undefined);
  const okPerKey = new Map();
  for (const r of ok) okPerKey.set(r.key, (okPerKey.get(r.key) ?? 0) + 1);
  const delivered = okPerKey.size;
  const duplicates = [...okPerKey.values()].filter((c) => c > 1).length;
  const stateOf = (e) => states.byOffer[e.offerId];
  const failed = entries.filter((e) => !okPerKey.has(e.key) && stateOf(e) === 'failed').length;
  const lost = entries.filter((e) => !okPerKey.has(e.key) && stateOf(e) !== 'failed');
  const sentNotDelivered = lost.filter((e) => stateOf(e) === 'sent').length;
  const deliveredNotMarked = entries.filter((e) => okPerKey.has(e.key) && stateOf(e) !== 'sent').length;
  const firstAt = extent(sends.map((r) => r.at)).lo;
  const lastOkAt = extent(ok.map((r) => r.at)).hi;
  const totalMs = lastOkAt - firstAt;
  const kickToFirstMs = sinkOrigin + firstAt - go.at;
  const beforeKick = sends.filter((r) => sinkOrigin + r.at < go.at).length;
  const doneTimes = [...new Map(ok.map((r) => [r.key, r.at])).values()].map((t) => t - firstAt).sort((a, b) => a - b);

  // Did every entry get exactly its planned answers, in order, up to its first 200?
  let asPlanned = 0;
  const perKey = new Map();
  for (const r of sends) if (r.key !== undefined) (perKey.get(r.key) ?? perKey.set(r.key, []).get(r.key)).push(r);
  for (const e of entries) {
    const got = (perKey.get(e.key) ?? []).map((r) => r.outcome).join(',');
    if (got === chainOf(P.faultSeed, e.key).join(',')) asPlanned++;
  }
  const unplanned = sends.filter((r) => r.key === undefined).length + all.filter((r) => r.other).length;

  // Rates: every request that reached the sink counts, whatever its answer.
  const peaks = {
    conversation: TEAMS_RATE_LIMITS.conversation.map((w) => ({ ...w, ...peakRate(sends, (r) => r.conversation, w.windowMs) })),
    tenant: TEAMS_RATE_LIMITS.tenant.map((w) => ({ ...w, ...peakRate(sends, (r) => r.tenant, w.windowMs) })),
  };

  // The deliverer's own retry waits (from its log: 1000 ms after a 429's Retry-After, backoff with jitter after a 503).
  const lines = readLog();
  const waitsByKey = new Map();
  const logCounts = { delivered: 0, retried: 0, failed: 0, errors: 0 };
  for (const l of lines) {
    if (l.msg === 'outbox entry delivered') logCounts.delivered++;
    else if (l.msg === 'outbox entry will be retried') {
      logCounts.retried++;
      const e = byOffer.get(l.subject);
      if (!e) continue;
      const w = waitsByKey.get(e.key) ?? waitsByKey.set(e.key, []).get(e.key);
      w[l.attempt - 1] = l.retryInMs;
    } else if (/failed/.test(l.msg ?? '')) logCounts.failed++;
    if (l.level >= 50) logCounts.errors++;
  }
  // How late each retry left: the time from a failed attempt's arrival to the next attempt's, minus the wait the
  // deliverer meant (Retry-After after a 429, the backoff it logged after a 503).
  const late = { 429: [], 503: [] };
  for (const e of entries) {
    const reqs = perKey.get(e.key) ?? [];
    const w = waitsByKey.get(e.key) ?? [];
    for (let a = 0; a + 1 < reqs.length; a++) {
      const meant = reqs[a].outcome === '429' ? RETRY_AFTER_S * 1000 : w[a];
      if (Number.isFinite(meant) && late[reqs[a].outcome]) late[reqs[a].outcome].push(reqs[a + 1].at - reqs[a].at - meant);
    }
  }
  for (const k of Object.keys(late)) late[k].sort((a, b) => a - b);
  const backoff503 = [];
  for (const e of entries) {
    const chain = chainOf(P.faultSeed, e.key);
    const w = waitsByKey.get(e.key) ?? [];
    chain.forEach((o, a) => o === '503' && Number.isFinite(w[a]) && backoff503.push(w[a]));
  }

  // Ideal senders for this run's entries (in this run's queue order). The simulation is quadratic in the entries: the
  // larger run reports only the lower bound.
  const ideal = large
    ? { lower: lowerBound({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS }) }
    : {
        brief: bestSchedule({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS }),
        inOrder: bestSchedule({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS, fifo: true }),
        block: bestSchedule({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS, blockOn429: true }),
        /** Teams' rules: a 429 holds its whole conversation, and each conversation's entries go in order. */
        rules: bestSchedule({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS, blockOn429: true, fifo: true }),
        policy: bestSchedule({
          entries: idealEntries(entries, waitsByKey),
          limits: TEAMS_RATE_LIMITS,
          fifo: true,
          marginMs: DELIVERER_MARGIN_MS,
        }),
        cpu: bestSchedule({
          entries: idealEntries(entries, waitsByKey),
          limits: TEAMS_RATE_LIMITS,
          fifo: true,
          marginMs: DELIVERER_MARGIN_MS,
          serviceMs: cpu.bot / sends.length,
        }),
        lower: lowerBound({ entries: idealEntries(entries), limits: TEAMS_RATE_LIMITS }),
      };
  if (dumpDir && !large) {
    writeFileSync(
      join(dumpDir, `${name}-sink.json`),
      JSON.stringify({
        firstAt,
        records: sends.map(({ at, method, conversation, tenant, key, attempt, outcome }) => ({
          at: at - firstAt,
          method,
          conversation,
          tenant,
          key,
          attempt,
          outcome,
        })),
      }),
    );
    writeFileSync(
      join(dumpDir, `${name}-ideal.json`),
      JSON.stringify(
        Object.fromEntries(
          Object.entries(ideal)
            .filter(([k]) => k !== 'lower')
            .map(([k, v]) => [k, { makespanMs: v.makespanMs, tried: v.tried, sends: v.sends }]),
        ),
      ),
    );
  }

  // Requests per second of the run, the real deliverer's and the ideal sender's; the conversation delivered last.
  const perSecond = (times) => {
    const out = [];
    for (const t of times) out[Math.floor(t / 1000)] = (out[Math.floor(t / 1000)] ?? 0) + 1;
    return Array.from(out, (v) => v ?? 0);
  };
  const histogram = {
    real: perSecond(sends.map((r) => r.at - firstAt)),
    ideal: large ? [] : perSecond(ideal.brief.sends.map((x) => x.at)),
  };
  const last = ok.reduce((a, b) => (b.at > a.at ? b : a), ok[0]);
  const lastConversation = last && {
    key: last.key,
    conversation: last.conversation,
    requests: sends
      .filter((r) => r.conversation === last.conversation)
      .map((r) => `${r.key.split('-').pop()}${r.attempt ? `#${r.attempt + 1}` : ''} ${r.outcome} ${fmt((r.at - firstAt) / 1000, 2)}`),
  };

  const seconds = (deliveredUs - startUs) / 1e6;
  return {
    histogram,
    lastConversation,
    name,
    size,
    seedMs: seeded.seedMs,
    issueMs: seeded.issueMs,
    queued: seeded.queued,
    leasedBeforeKick: seeded.leasedBeforeKick,
    beforeKick,
    delivered,
    lost: lost.length,
    lostExamples: lost.slice(0, 5).map((e) => `${e.key} (${e.offerId}, ${stateOf(e) ?? 'no entry'})`),
    sentNotDelivered,
    deliveredNotMarked,
    failed,
    duplicates,
    stalled,
    states: states.counts,
    notSent: states.notSent,
    requests: sends.length,
    answered429: sends.filter((r) => r.status === 429).length,
    answered503: sends.filter((r) => r.status === 503).length,
    asPlanned,
    unplanned,
    peaks,
    totalMs,
    kickToFirstMs,
    settledMs,
    p50Ms: doneTimes[Math.floor(doneTimes.length * 0.5)],
    p90Ms: doneTimes[Math.floor(doneTimes.length * 0.9)],
    ideal,
    backoff503,
    late,
    logCounts,
    cpu,
    seconds,
    rssPeak,
    rssSamples,
    checkpoints,
    rssBeforeSeed,
    rssIdle: go.rssMb,
  };
}

// --- the bench ---------------------------------------------------------------------------------------------------

/** The checks that fail the bench: nothing lost, nothing delivered twice, no window over Teams' limits at the sink. */
function correctness(runs) {
  const lim = TEAMS_RATE_LIMITS;
  const peaks = (r) =>
    [
      ...r.peaks.conversation.map((p) => `${p.count}/${p.limit}`),
      `tenant ${r.peaks.tenant.map((p) => `${p.count}/${p.limit}`).join(', ')}`,
    ].join(' ');
  return [
    [
      'every entry delivered: none lost, none failed',
      runs.every((r) => r.lost === 0 && r.failed === 0 && r.delivered === r.size),
      runs.map((r) => `${r.delivered}/${r.size} delivered, ${r.lost} lost, ${r.failed} failed`).join('; '),
    ],
    ['no entry delivered twice', runs.every((r) => r.duplicates === 0), runs.map((r) => r.duplicates).join(', ')],
    [
      "every conversation and every tenant within Teams' limits in every window, counted at the sink",
      runs.every(
        (r) =>
          r.peaks.conversation.every((p, i) => p.count <= lim.conversation[i].limit) &&
          r.peaks.tenant.every((p, i) => p.count <= lim.tenant[i].limit),
      ),
      runs.map(peaks).join('; '),
    ],
  ];
}

/** The larger run's report: correctness, limits, time against the lower bound, CPU, and RSS over the delivery. */
function reportLarge(r) {
  const s = (ms) => `${fmt(ms / 1000, 2)} s`;
  const mb = (v) => `${fmt(v, 0)} MB`;
  const lim = TEAMS_RATE_LIMITS;
  const quarter = (from, to) => {
    let peak = -Infinity;
    for (const x of r.rssSamples) if (x.delivered >= from * r.size && x.delivered <= to * r.size) peak = Math.max(peak, x.rss);
    return peak;
  };
  const rss = { first: quarter(0, 0.25), last: quarter(0.75, 1) };
  const peakOverIdle = r.rssPeak / r.rssIdle;
  const live = (f) => r.checkpoints.find((c) => c.fraction === f);
  const later = r.checkpoints.filter((c) => c.fraction > 0.25);
  const flat = live(0.25) && later.length ? Math.max(...later.map((c) => c.rssMb)) / live(0.25).rssMb : NaN;
  const yesNo = (ok) => (ok ? 'yes' : '**no**');
  const cpuPer = r.cpu.bot / r.size;
  const rows = [
    ['Delivered (distinct entries answered 2xx)', int(r.delivered), int(r.size), yesNo(r.delivered === r.size)],
    ['Lost (not delivered, not failed)', int(r.lost), '0', yesNo(r.lost === 0)],
    ['Failed (marked failed in the store)', int(r.failed), '', ''],
    ['Duplicates (entries answered 2xx twice or more)', int(r.duplicates), '0', yesNo(r.duplicates === 0)],
    ['Requests reaching the sink (answered 429 / 503)', `${int(r.requests)} (${int(r.answered429)} / ${int(r.answered503)})`, '', ''],
    ...lim.conversation.map((w, i) => [
      `Peak per conversation, any ${w.windowMs >= 3_600_000 ? '1 h' : `${w.windowMs / 1000} s`}`,
      int(r.peaks.conversation[i].count),
      `≤ ${w.limit}`,
      yesNo(r.peaks.conversation[i].count <= w.limit),
    ]),
    [
      `Peak per tenant, any ${lim.tenant[0].windowMs / 1000} s`,
      int(r.peaks.tenant[0].count),
      `≤ ${lim.tenant[0].limit}`,
      yesNo(r.peaks.tenant[0].count <= lim.tenant[0].limit),
    ],
    ['Queued through offers.issue (one macrotask, then the kick)', `${int(r.queued)} in ${s(r.issueMs)}`, '', ''],
    ['Total: first send → last delivery', s(r.totalMs), '', ''],
    ['  no sender can beat (lower bound: each limit alone)', s(r.ideal.lower.ms), '', ''],
    ['  notifications delivered per second', fmt(r.size / (r.totalMs / 1000), 0), '', ''],
    ['Kick → all marked sent in the store', s(r.settledMs), '', ''],
    ['Bot CPU (all threads), kick → last delivery', s(r.cpu.bot), '', ''],
    ['  per notification', `${fmt(cpuPer, 2)} ms`, `≤ ${GOALS.cpuPerNotificationMs} ms`, yesNo(cpuPer <= GOALS.cpuPerNotificationMs)],
    ['  per request', `${fmt(r.cpu.bot / r.requests, 2)} ms`, '', ''],
    ['  cores busy', fmt(r.cpu.bot / 1000 / r.seconds, 2), '', ''],
    ['Bot RSS before seeding', mb(r.rssBeforeSeed), '', ''],
    ['Bot RSS idle with the backlog queued (after GC, at the kick)', mb(r.rssIdle), '', ''],
    ['Bot RSS, peak while delivering', mb(r.rssPeak), '', ''],
    ['  peak ÷ idle', fmt(peakOverIdle, 2), `≤ ${RSS_GOALS.peakOverIdle}`, yesNo(peakOverIdle <= RSS_GOALS.peakOverIdle)],
    ['  peak over the first / last quarter of the entries delivered', `${mb(rss.first)} / ${mb(rss.last)}`, '', ''],
    ['Bot RSS after a full GC at 25 / 50 / 75 / 100% delivered', r.checkpoints.map((c) => fmt(c.rssMb, 0)).join(' / ') + ' MB', '', ''],
    ['  heap used after that GC', r.checkpoints.map((c) => fmt(c.heapUsedMb, 0)).join(' / ') + ' MB', '', ''],
    ['  highest after 25% ÷ at 25% (flat)', fmt(flat, 2), `≤ ${RSS_GOALS.flat}`, yesNo(flat <= RSS_GOALS.flat)],
    ['Sink CPU', s(r.cpu.sink), '', ''],
    ['Other load on the machine (cores)', fmt(r.cpu.others / 1000 / r.seconds, 2), '', ''],
  ];
  const verification = [
    [
      'one outbox entry queued per offer, none leased or sent before the kick',
      r.queued === r.size && r.leasedBeforeKick === 0 && r.beforeKick === 0 && r.states.missing === 0 && r.states.extra === 0,
      `${int(r.queued)} queued, ${r.leasedBeforeKick} leased and ${r.beforeKick} sent before the kick`,
    ],
    ['every entry got exactly its planned answers', r.asPlanned === r.size, `${int(r.asPlanned)}/${int(r.size)}`],
    ['no request the plan did not know', r.unplanned === 0, `${r.unplanned}`],
    ['the run did not stall', !r.stalled, r.stalled ? 'stalled' : 'ok'],
    ...correctness([r]),
  ];
  const rssSeries = [];
  for (let d = 0.1; d <= 1.0001; d += 0.1) {
    const upTo = r.rssSamples.filter((x) => x.delivered <= d * r.size && x.delivered > (d - 0.1) * r.size);
    rssSeries.push(upTo.length ? fmt(Math.max(...upTo.map((x) => x.rss)), 0) : '–');
  }
  const notes = [
    `Bot RSS, peak in each tenth of the entries delivered (MB): ${rssSeries.join(', ')}. Deliverer log (delivered / retried / failed / errors): ${r.logCounts.delivered}/${r.logCounts.retried}/${r.logCounts.failed}/${r.logCounts.errors}.`,
    `Lower bound: longest chain of 429s ${s(r.ideal.lower.chain)}; busiest conversation, ${r.ideal.lower.busiestConversation} requests, ${s(r.ideal.lower.conversation)}; busiest tenant, ${r.ideal.lower.busiestTenant} requests, ${s(r.ideal.lower.tenant)}. (The ideal schedules of the small runs are quadratic in the entries and are not simulated here.)`,
  ];
  return { rows, verification, notes, rss, peakOverIdle, flat };
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main() {
  const began = Date.now();
  if (!existsSync(join(root, 'dist/src/app.js'))) throw new Error('dist/ is missing: run `npm run bench:notify` (it builds first)');
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  if (dumpDir) mkdirSync(dumpDir, { recursive: true });
  log(
    `node ${process.version}, ${os.cpus().length} CPUs; ${int(N)} notifications per run (${P.tenants} tenants x ${P.conversations} conversations x ${P.perConversation}), ${P.runs} runs after a warm-up; code ${CODE.text}` +
      (profileDir ? `; profiling into ${profileDir}` : ''),
  );

  const dataDir = mkdtempSync(join(os.tmpdir(), 'partner-offers-bench-notify-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const logFile = join(dataDir, 'bot.log');
  const logFd = openSync(logFile, 'w');

  const sink = start('lib/notify-sink.mjs', 'sink');
  const { url: sinkUrl } = await sink.ready;
  sink.url = sinkUrl;
  const botArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=bot.cpuprofile'] : [];
  const bot = start('lib/notify-bot.mjs', 'bot', { env: { BENCH_DATA_DIR: dataDir }, stdout: logFd, execArgv: botArgv });
  const botReady = await bot.ready;
  closeSync(logFd);
  log(
    `bot pid ${botReady.pid} (store ${botReady.store}, ${botReady.instances} instance(s), lease ${botReady.leaseMs / 1000} s), sink at ${sinkUrl}; store and log in ${dataDir}`,
  );
  const readLog = logReader(logFile);
  const windows = [];
  const ctx = { bot, sink, readLog, windows };

  const warm = await run('warmup', P.warmupTenants, ctx);
  log(
    `warm-up: ${warm.delivered}/${warm.size} delivered in ${fmt(warm.totalMs / 1000, 2)} s (ideal ${fmt(warm.ideal.brief.makespanMs / 1000, 2)} s), lost ${warm.lost}, duplicates ${warm.duplicates}`,
  );

  const runs = [];
  for (let i = 1; i <= P.runs; i++) {
    await sleep(2_000);
    const r = await run(`run${i}`, P.tenants, ctx);
    runs.push(r);
    const pc = r.peaks.conversation.map((p) => p.count).join('/');
    log(
      `run ${i}: delivered ${r.delivered}/${r.size}, lost ${r.lost}, failed ${r.failed}, duplicates ${r.duplicates}; ` +
        `${r.requests} requests (${r.answered429}x429, ${r.answered503}x503), as planned ${r.asPlanned}/${r.size}; ` +
        `peaks per conversation ${pc}, per tenant ${r.peaks.tenant[0].count}; ` +
        `total ${fmt(r.totalMs / 1000, 2)} s vs ideal ${['brief', 'block', 'inOrder', 'rules', 'policy', 'cpu'].map((k) => fmt(r.ideal[k].makespanMs / 1000, 2)).join(' / ')} s; ` +
        `bot CPU ${fmt(r.cpu.bot / 1000, 2)} s, RSS peak ${fmt(r.rssPeak, 0)} MB, other load ${fmt(r.cpu.others / 1000 / r.seconds, 2)} cores`,
    );
  }
  let large;
  if (LARGE.enabled) {
    await sleep(2_000);
    const size = LARGE.tenants * P.conversations * P.perConversation;
    log(
      `large run: ${int(size)} notifications (${LARGE.tenants} tenants x ${P.conversations} x ${P.perConversation}); seeding through offers.issue`,
    );
    const r = await run('large', LARGE.tenants, ctx, { large: true });
    large = { run: r, ...reportLarge(r) };
    log(
      `large run: delivered ${r.delivered}/${r.size}, lost ${r.lost}, duplicates ${r.duplicates}, peaks per conversation ${r.peaks.conversation.map((p) => p.count).join('/')}, per tenant ${r.peaks.tenant[0].count}; ` +
        `total ${fmt(r.totalMs / 1000, 1)} s (queued in ${fmt(r.issueMs / 1000, 1)} s); bot CPU ${fmt(r.cpu.bot / r.size, 2)} ms per notification; ` +
        `RSS idle ${fmt(r.rssIdle, 0)} MB, peak ${fmt(r.rssPeak, 0)} MB, first/last quarter ${fmt(large.rss.first, 0)}/${fmt(large.rss.last, 0)} MB`,
    );
  }
  const finalMemory = await bot.ask('memory');
  await Promise.all([bot.stop(), sink.stop()]);
  if (profileDir) {
    writeFileSync(join(profileDir, 'phases.json'), JSON.stringify(windows, null, 1));
    log(
      `profile and phases.json in ${profileDir}; summarise with: node bench/profile-summary.mjs ${join(profileDir, 'bot.cpuprofile')} --phase run1`,
    );
  }

  // --- report ----------------------------------------------------------------------------------------------------
  const per = (f) => runs.map(f);
  const med = (f) => median(per(f));
  const idealMs = runs[0].ideal.brief.makespanMs;
  const sameIdeal = runs.every((r) =>
    ['brief', 'block', 'inOrder', 'rules'].every((k) => r.ideal[k].makespanMs === runs[0].ideal[k].makespanMs),
  );
  const ratio = (r) => r.totalMs / r.ideal.rules.makespanMs;
  const ratioBrief = (r) => r.totalMs / r.ideal.brief.makespanMs;
  const cpuPerNotification = (r) => r.cpu.bot / r.size;
  const s = (ms) => `${fmt(ms / 1000, 2)} s`;
  /** One row: each run's value shown, then the median of the runs (unless `noMedian`), the goal and whether every run met it. */
  const row = (what, f, show, goal = '', met = undefined, noMedian = false) => [
    what,
    ...per((r) => show(f(r))),
    noMedian ? '' : show(med(f)),
    goal,
    met === undefined ? '' : met ? 'yes' : '**no**',
  ];
  /** A row whose cells are text per run (pairs of figures), without a median. */
  const textRow = (what, f) => [what, ...per(f), '', '', ''];
  const within = (f, limit) => runs.every((r) => f(r) <= limit);
  const pk = (i) => (r) => r.peaks.conversation[i].count;
  const lim = TEAMS_RATE_LIMITS;
  const rows = [
    row(
      'Delivered (distinct entries answered 2xx)',
      (r) => r.delivered,
      int,
      `${int(N)}`,
      runs.every((r) => r.delivered === N),
    ),
    row(
      'Lost (not delivered, not failed)',
      (r) => r.lost,
      int,
      `${GOALS.lost}`,
      within((r) => r.lost, GOALS.lost),
    ),
    row('Failed (marked failed in the store)', (r) => r.failed, int),
    row(
      'Duplicates (entries answered 2xx twice or more)',
      (r) => r.duplicates,
      int,
      `${GOALS.duplicates}`,
      within((r) => r.duplicates, GOALS.duplicates),
    ),
    row('Requests reaching the sink', (r) => r.requests, int),
    textRow('  answered 429 (Retry-After: 1) / 503', (r) => `${r.answered429} / ${r.answered503}`),
    ...lim.conversation.map((w, i) =>
      row(
        `Peak per conversation, any ${w.windowMs >= 3_600_000 ? '1 h' : `${w.windowMs / 1000} s`}`,
        pk(i),
        int,
        `≤ ${w.limit}`,
        within(pk(i), w.limit),
      ),
    ),
    row(
      `Peak per tenant, any ${lim.tenant[0].windowMs / 1000} s`,
      (r) => r.peaks.tenant[0].count,
      int,
      `≤ ${lim.tenant[0].limit}`,
      within((r) => r.peaks.tenant[0].count, lim.tenant[0].limit),
    ),
    row('Total: first send → last delivery', (r) => r.totalMs, s),
    row(
      "Bound under Teams' rules (ideal sender; a 429 holds its conversation; each conversation in order)",
      (r) => r.ideal.rules.makespanMs,
      s,
    ),
    row("Total ÷ bound under Teams' rules", ratio, (v) => fmt(v, 2), `≤ ${GOALS.ratio}`, within(ratio, GOALS.ratio)),
    row('Ideal sender, unconstrained (no sender can beat it)', (r) => r.ideal.brief.makespanMs, s),
    row('Total ÷ unconstrained ideal', ratioBrief, (v) => fmt(v, 2)),
    row('  ideal, + a 429 holds its whole conversation', (r) => r.ideal.block.makespanMs, s),
    row('  ideal, + each conversation in order', (r) => r.ideal.inOrder.makespanMs, s),
    row("  ideal, + the deliverer's 503 backoff and 20 ms margin", (r) => r.ideal.policy.makespanMs, s),
    row("  ideal, + one request at a time at the bot's CPU per request", (r) => r.ideal.cpu.makespanMs, s),
    textRow(
      'Retries after a 429: sent late by, median / max',
      (r) => `${fmt(r.late['429'][r.late['429'].length >> 1] ?? NaN, 0)} / ${fmt(r.late['429'].at(-1) ?? NaN, 0)} ms`,
    ),
    textRow(
      'Retries after a 503: sent late by, median / max',
      (r) => `${fmt(r.late['503'][r.late['503'].length >> 1] ?? NaN, 0)} / ${fmt(r.late['503'].at(-1) ?? NaN, 0)} ms`,
    ),
    textRow('  half / 90% of entries delivered after', (r) => `${fmt(r.p50Ms / 1000, 2)} / ${fmt(r.p90Ms / 1000, 2)} s`),
    row(
      'Kick → first send',
      (r) => r.kickToFirstMs,
      (v) => `${fmt(v, 0)} ms`,
    ),
    row('Kick → all marked sent in the store', (r) => r.settledMs, s),
    row(
      'Bot CPU (all threads), kick → last delivery',
      (r) => r.cpu.bot,
      (v) => `${fmt(v / 1000, 2)} s`,
    ),
    row(
      '  per notification',
      cpuPerNotification,
      (v) => `${fmt(v, 2)} ms`,
      `≤ ${GOALS.cpuPerNotificationMs} ms`,
      within(cpuPerNotification, GOALS.cpuPerNotificationMs),
    ),
    row(
      '  per request',
      (r) => r.cpu.bot / r.requests,
      (v) => `${fmt(v, 2)} ms`,
    ),
    row(
      '  cores busy',
      (r) => r.cpu.bot / 1000 / r.seconds,
      (v) => fmt(v, 2),
    ),
    row(
      'Bot RSS, peak during the run',
      (r) => r.rssPeak,
      (v) => `${fmt(v, 0)} MB`,
    ),
    row(
      'Sink CPU',
      (r) => r.cpu.sink,
      (v) => `${fmt(v / 1000, 2)} s`,
    ),
    row(
      'Other load on the machine (cores)',
      (r) => r.cpu.others / 1000 / r.seconds,
      (v) => fmt(v, 2),
    ),
  ];

  const goalsMet = rows.filter((r) => r[r.length - 1] === '**no**').map((r) => r[0]);
  const verification = [
    [
      'every run queued one outbox entry per offer, none leased or sent before the kick',
      runs.every(
        (r) => r.queued === r.size && r.leasedBeforeKick === 0 && r.beforeKick === 0 && r.states.missing === 0 && r.states.extra === 0,
      ),
      per(
        (r) => `${r.queued} queued in ${fmt(r.issueMs / 1000, 1)} s, ${r.leasedBeforeKick} leased and ${r.beforeKick} sent before the kick`,
      ).join('; '),
    ],
    [
      'every entry got exactly its planned answers (fault plan honoured)',
      runs.every((r) => r.asPlanned === r.size),
      per((r) => `${r.asPlanned}/${r.size}`).join(', '),
    ],
    ['no request the plan did not know', runs.every((r) => r.unplanned === 0), per((r) => r.unplanned).join(', ')],
    ['the ideal bound is the same in every run (same plan, same order)', sameIdeal, `${s(idealMs)}`],
    ['no run stalled', runs.every((r) => !r.stalled), per((r) => (r.stalled ? 'stalled' : 'ok')).join(', ')],
    ...correctness(runs),
  ];
  const verified = verification.every(([, ok]) => ok) && (!large || large.verification.every(([, ok]) => ok));

  const r1 = runs[0];
  const lower = r1.ideal.lower;
  const chains = new Map();
  const longChains = [];
  for (let i = 0; i < N; i++) {
    const ch = chainOf(P.faultSeed, keyAt(i));
    const k = ch.join('→');
    chains.set(k, (chains.get(k) ?? 0) + 1);
    if (ch.filter((o) => o === '429').length >= 2 || ch.length >= 4) longChains.push(`${keyAt(i)} ${k}`);
  }
  const b503 = runs.flatMap((r) => r.backoff503).sort((a, b) => a - b);
  const notes = [
    `Fault plan (seed ${P.faultSeed}): ${int(r1.requests)} requests for ${int(N)} entries, ${r1.answered429} answered 429 and ${r1.answered503} answered 503. Attempt sequences: ${[
      ...chains,
    ]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ')}. Entries with two or more 429s or four or more attempts: ${longChains.join(', ')}.`,
    `Ideal sender: ${s(idealMs)} (best of the priority rules tried: ${Object.entries(r1.ideal.brief.tried)
      .map(([k, v]) => `${k} ${s(v)}`)
      .join(
        ', ',
      )}); no sender can beat ${s(lower.ms)} (longest chain of 429s ${s(lower.chain)}; busiest conversation, ${lower.busiestConversation} requests packed into its windows, ${s(lower.conversation)}; busiest tenant, ${lower.busiestTenant} requests, ${s(lower.tenant)})${lower.ms === idealMs ? ', so the ideal schedule is optimal' : ''}. The same ideal sender under the deliverer's rules, added one at a time: a 429 holds the whole conversation for its Retry-After (the limiter's block) ${s(r1.ideal.block.makespanMs)}; each conversation's entries in queue order, a retry holding the ones behind it ${s(r1.ideal.inOrder.makespanMs)}; with the backoff waits the deliverer drew after each 503 and its 20 ms window margin ${runs.map((r) => s(r.ideal.policy.makespanMs)).join(', ')} (per run); and sending one request at a time, each costing the bot's measured CPU per request (${runs.map((r) => `${fmt(r.cpu.bot / r.requests, 2)} ms`).join(', ')}), ${runs.map((r) => s(r.ideal.cpu.makespanMs)).join(', ')}.`,
    `The deliverer's backoff after a 503 (capped decorrelated jitter: the first in [100, 300) ms, each next in [100 ms, 3× the previous)), as drawn in these runs: median ${fmt(median(b503), 0)} ms, max ${fmt(b503[b503.length - 1], 0)} ms over ${b503.length} retries.`,
    `Requests reaching the sink in each second after the first send (run 1): ${r1.histogram.real.join(', ')}; the ideal sender: ${r1.histogram.ideal.join(', ')}.`,
    `Delivered last in run 1: ${r1.lastConversation?.key} in ${r1.lastConversation?.conversation}, whose requests were (entry[#attempt] answer, s after the first send): ${r1.lastConversation?.requests.join('; ')}.`,
    `Deliverer log per run (delivered / retried / failed / errors): ${per((r) => `${r.logCounts.delivered}/${r.logCounts.retried}/${r.logCounts.failed}/${r.logCounts.errors}`).join(', ')}. Bot RSS after the runs, after GC: ${fmt(finalMemory.rssMb, 0)} MB (heap used ${fmt(finalMemory.heapUsedMb, 0)} MB).`,
    `Warm-up: ${int(warm.size)} notifications (${P.warmupTenants} tenants), ${s(warm.totalMs)} against an ideal ${s(warm.ideal.brief.makespanMs)}, lost ${warm.lost}, duplicates ${warm.duplicates}.`,
  ];
  const noisy = runs.filter((r) => r.cpu.others / 1000 / r.seconds > 0.25);
  notes.push(
    `CPU used by other processes on the machine during each run (cores): ${per((r) => fmt(r.cpu.others / 1000 / r.seconds, 2)).join(', ')}.` +
      (noisy.length
        ? ` **The machine was shared during ${noisy.map((r) => r.name).join(', ')}: those figures are noisier than usual; rerun on a quiet machine to compare runs.**`
        : ''),
  );
  if (runs.some((r) => r.lost)) notes.push(`Lost entries: ${per((r) => r.lostExamples.join(', ')).join(' | ')}`);

  console.log('');
  console.log(table(['Measure', ...runs.map((r) => r.name.replace('run', 'Run ')), 'Median', 'Goal', 'Met'], rows));
  console.log('');
  for (const n of notes) console.log(`${n.replace(/\*\*/g, '')}\n`);
  for (const [what, ok, detail] of verification) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} (${detail})`);
  console.log(goalsMet.length ? `\nGoals not met: ${goalsMet.join('; ')}` : '\nAll goals met.');
  if (large) {
    console.log(`\nLarger run (${int(large.run.size)} notifications, ${LARGE.tenants} tenants):\n`);
    console.log(table(['Measure', 'Value', 'Goal', 'Met'], large.rows));
    console.log('');
    for (const n of large.notes) console.log(`${n}\n`);
    for (const [what, ok, detail] of large.verification) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} (${detail})`);
    const notMet = large.rows.filter((r) => r[3] === '**no**').map((r) => r[0].trim());
    console.log(notMet.length ? `\nLarger run, goals not met: ${notMet.join('; ')}` : '\nLarger run: all goals met.');
  }
  const totalS = (Date.now() - began) / 1000;
  console.log(`Bench took ${fmt(totalS, 0)} s.`);

  if (isDefault && verified) {
    writeResults({ rows, runs, notes, verification, totalS });
    console.log('Wrote the notification section of bench/RESULTS.md.');
    if (large && LARGE.tenants === LARGE_DEFAULT_TENANTS) {
      writeLargeResults(large, totalS);
      console.log('Wrote the larger run section of bench/RESULTS.md.');
    }
  } else if (!verified) {
    console.log('Verification failed: bench/RESULTS.md not updated.');
  } else {
    console.log('Non-default parameters or profiling: bench/RESULTS.md not updated.');
  }
  if (!verified) process.exitCode = 1;
}

/** Logical key of the i-th entry, by position (tenant, conversation, notification). */
function keyAt(i) {
  const per = P.conversations * P.perConversation;
  return logicalKey(Math.floor(i / per), Math.floor((i % per) / P.perConversation), i % P.perConversation);
}

function writeResults({ rows, runs, notes, verification, totalS }) {
  const file = join(here, 'RESULTS.md');
  const cpus = os.cpus();
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const machine = `${cpus.length} cores (${cpus[0]?.model?.trim() ?? 'unknown CPU'}), ${fmt(os.totalmem() / 1024 ** 3)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const generated = [
    '<!-- notify:begin (generated by bench/notify.mjs; edit outside these markers) -->',
    `### Latest run: ${date}`,
    '',
    `- Command: \`npm run bench:notify\` (builds, then \`node bench/notify.mjs\`); took ${fmt(totalS, 0)} s after the build.`,
    `- Machine: ${machine}.`,
    `- Code: ${CODE.text}.`,
    `- Load per run: ${int(N)} offer cards (${P.tenants} customer tenants × ${P.conversations} approvers' 1:1 chats × ${P.perConversation}), queued at once through the offer service, then the running deliverer kicked; a warm-up run of ${P.warmupTenants} tenants first. Fault plan: ${fmt(P_429 * 100, 0)}% 429 (Retry-After: ${RETRY_AFTER_S}), ${fmt(P_503 * 100, 0)}% 503, keyed by entry and attempt (seed ${P.faultSeed}).`,
    '',
    table(['Measure', ...runs.map((r) => r.name.replace('run', 'Run ')), 'Median', 'Goal', 'Met'], rows),
    '',
    ...notes.flatMap((n) => [n, '']),
    'Checked after the runs:',
    '',
    ...verification.map(([what, ok, detail]) => `- ${ok ? '[x]' : '[ ] FAILED:'} ${what} (${detail})`),
    '<!-- notify:end -->',
  ].join('\n');
  const med = (f) => median(runs.map(f));
  const historyRow = `| ${date} | ${CODE.commit} | ${cpus.length} | ${process.version} | ${int(med((r) => r.lost))} | ${int(med((r) => r.duplicates))} | ${runs.map((r) => r.peaks.conversation.map((p) => p.count).join('/')).join(', ')} | ${runs.map((r) => r.peaks.tenant[0].count).join(', ')} | ${fmt(med((r) => r.totalMs) / 1000, 2)} s | ${fmt(runs[0].ideal.brief.makespanMs / 1000, 2)} s | ${fmt(
    med((r) => r.totalMs / r.ideal.brief.makespanMs),
    2,
  )} | ${fmt(Math.max(...runs.map((r) => r.cpu.others / 1000 / r.seconds)), 2)} | ${fmt(runs[0].ideal.rules.makespanMs / 1000, 2)} s | ${fmt(
    med((r) => r.totalMs / r.ideal.rules.makespanMs),
    2,
  )} | ${fmt(
    med((r) => r.cpu.bot / r.size),
    2,
  )} ms |`;
  updateResultsFile(file, {
    key: 'notify',
    generated,
    history: {
      key: 'notify-history',
      header: [
        "| Date | Code | Cores | Node | Lost | Duplicates | Peaks per conversation 1 s/2 s/30 s/1 h (each run) | Peak per tenant 1 s | Total (median) | Ideal | Ratio | Other load, max cores | Bound under Teams' rules | Ratio to it | CPU per notification |",
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ],
      row: historyRow,
    },
    placeNew: appendSection('# Benchmark: notification delivery (`npm run bench:notify`)'),
  });
}

function writeLargeResults(large, totalS) {
  const file = join(here, 'RESULTS.md');
  const r = large.run;
  const cpus = os.cpus();
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const generated = [
    '<!-- notify-large:begin (generated by bench/notify.mjs; edit outside these markers) -->',
    `### Larger run, latest: ${date}`,
    '',
    `- Command: \`npm run bench:notify\` (the larger run follows the small ones in the same bot process; the whole bench took ${fmt(totalS, 0)} s after the build).`,
    `- Code: ${CODE.text}.`,
    `- Load: ${int(r.size)} offer cards (${LARGE.tenants} customer tenants × ${P.conversations} approvers' 1:1 chats × ${P.perConversation}), queued at once through the offer service, then the running deliverer kicked. Same fault plan as the small runs (seed ${P.faultSeed}).`,
    '',
    table(['Measure', 'Value', 'Goal', 'Met'], large.rows),
    '',
    ...large.notes.flatMap((n) => [n, '']),
    'Checked (the bench fails if any does not hold):',
    '',
    ...large.verification.map(([what, ok, detail]) => `- ${ok ? '[x]' : '[ ] FAILED:'} ${what} (${detail})`),
    '<!-- notify-large:end -->',
  ].join('\n');
  const historyRow = `| ${date} | ${CODE.commit} | ${cpus.length} | ${process.version} | ${int(r.size)} | ${int(r.lost)} | ${int(r.duplicates)} | ${r.peaks.conversation.map((p) => p.count).join('/')} | ${r.peaks.tenant[0].count} | ${fmt(r.totalMs / 1000, 1)} s | ${fmt(r.cpu.bot / r.size, 2)} ms | ${fmt(r.rssIdle, 0)} / ${fmt(r.rssPeak, 0)} MB | ${fmt(large.flat, 2)} | ${fmt(r.cpu.others / 1000 / r.seconds, 2)} |`;
  updateResultsFile(file, {
    key: 'notify-large',
    generated,
    history: {
      key: 'notify-large-history',
      header: [
        '| Date | Code | Cores | Node | Notifications | Lost | Duplicates | Peaks per conversation 1 s/2 s/30 s/1 h | Peak per tenant 1 s | Total | CPU per notification | RSS idle / peak | RSS after GC, highest after 25% ÷ at 25% | Other load, cores |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ],
      row: historyRow,
    },
    historyHeading: '#### History of the larger run',
    // First time: right after the small runs' history.
    placeNew: (old, section, historyTable) =>
      old.replace(
        '<!-- notify-history:end -->',
        () => `<!-- notify-history:end -->\n\n${section}\n\n#### History of the larger run\n\n${historyTable}`,
      ),
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
  killChildren();
});
