// `npm run bench:recovery`: how fast the bot takes its notifications back after a crash (issue 18, "Recovery after a
// crash"). See bench/RESULTS.md.
//
// Per run, on a fresh SQLite file: partner-channel notices are queued as the offer service queues them when customers
// accept offers (an `offer.channel` entry for each partner's chosen team channel, written through the store's
// `offers.decide`, from this process, before the bot starts); the built bot (`node dist/src/index.js`, as `npm start`
// runs it, default lease) is started as a child process; the connector sink (bench/lib/recovery-sink.mjs, its own
// process) SIGKILLs it the moment a given number of requests have arrived, mid-delivery; this process reads the outbox
// as the kill left it and at once starts the bot again on the same file, as a supervisor would; the run ends when the
// outbox is empty. Every request the sink took is matched to its offer by the offer id its card names.
//
// Measured: kill → restart → first send; restart → everything delivered; the fastest time Teams' limits allow for
// what was pending at the kill (bench/lib/notify-ideal.mjs: per conversation 7/1 s, 8/2 s, 60/30 s, 1800/h, per tenant
// 50/1 s, each conversation in order); duplicates against the requests in flight at the kill. Goals: first send
// within 10 s of the restart; first send → last delivery within 1.2× that bound; no more duplicates than were in
// flight. It fails (exit 1) if anything was lost or failed, a duplicate was not in flight at the kill, an entry was
// taken over before its lease ran out, or a process went over Teams' limits.
//
// Environment (for development; RESULTS.md is written only with the defaults):
//   BENCH_PARTNERS, BENCH_PER_PARTNER, BENCH_KILL_AFTER, BENCH_RUNS
//   BENCH_LEASE_SECONDS=<s>  OUTBOX_LEASE_SECONDS for the bot (to compare with other leases, e.g. the former 60)
import { appendSection, updateResultsFile } from './lib/results-file.mjs';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killChildren, startChild } from './lib/children.mjs';
import { bestSchedule, lowerBound } from './lib/notify-ideal.mjs';
import { alex, megan } from './users.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const dist = join(root, 'dist');
const BOT_ENTRY = join(dist, 'src/index.js');

const DEFAULTS = { partners: 3, perPartner: 30, killAfter: 30, runs: 3 };
const P = {
  partners: Number(process.env.BENCH_PARTNERS ?? DEFAULTS.partners),
  perPartner: Number(process.env.BENCH_PER_PARTNER ?? DEFAULTS.perPartner),
  killAfter: Number(process.env.BENCH_KILL_AFTER ?? DEFAULTS.killAfter),
  runs: Number(process.env.BENCH_RUNS ?? DEFAULTS.runs),
};
const LEASE_SECONDS = process.env.BENCH_LEASE_SECONDS;
const N = P.partners * P.perPartner;
const isDefault = Object.entries(DEFAULTS).every(([k, v]) => P[k] === v) && !LEASE_SECONDS;
const GOALS = { firstSendMs: 10_000, ratio: 1.2 };
/** The deliverer's requests in flight at once (its default concurrency): the most a kill can leave sent but unmarked. */
const IN_FLIGHT_MAX = 32;

if (!existsSync(BOT_ENTRY)) throw new Error(`${BOT_ENTRY} is missing: run npm run bench:recovery (it builds first)`);
const { loadConfig } = require(join(dist, 'src/config.js'));
const { openStore } = require(join(dist, 'src/store/open.js'));
const { channelNotice } = require(join(dist, 'src/notifications/channel.js'));
const { TEAMS_RATE_LIMITS } = require(join(dist, 'src/notifications/rate-limit.js'));
const { applyDecision } = require(join(dist, 'src/offers/rules.js'));
const { OFFER_CHANNEL } = require(join(dist, 'src/offers/service.js'));
const pino = require('pino');

// --- helpers -----------------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const s = (ms, d = 1) => `${fmt(ms / 1000, d)} s`;
const log = (line) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Which code was measured: the commit, and whether src/ had uncommitted changes. */
function codeVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    const dirty = git('status', '--porcelain', '--', 'src', 'cards').split('\n').filter(Boolean);
    const commit = git('rev-parse', '--short', 'HEAD');
    return {
      text: `commit ${commit} ("${git('log', '-1', '--format=%s').slice(0, 120)}")${dirty.length ? `, with ${dirty.length} uncommitted change(s) under src/ or cards/` : ''}`,
      commit: commit + (dirty.length ? '+' : ''),
    };
  } catch {
    return { text: 'unknown (not a git checkout)', commit: '?' };
  }
}

/** The most requests within any `windowMs` for one key; windows are [t, t + windowMs), as the limiter counts them. */
function peakRate(records, keyOf, windowMs) {
  const byKey = new Map();
  for (const r of records) {
    const key = keyOf(r);
    if (key === undefined) continue;
    (byKey.get(key) ?? byKey.set(key, []).get(key)).push(r.at);
  }
  let best = 0;
  for (const times of byKey.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + windowMs) j++;
      best = Math.max(best, j - i);
    }
  }
  return best;
}

const peaks = (records) => ({
  conversation: TEAMS_RATE_LIMITS.conversation.map((w) => peakRate(records, (r) => r.conversation, w.windowMs)),
  tenant: TEAMS_RATE_LIMITS.tenant.map((w) => peakRate(records, (r) => r.tenant, w.windowMs)),
});
const withinLimits = (p) =>
  TEAMS_RATE_LIMITS.conversation.every((w, i) => p.conversation[i] <= w.limit) &&
  TEAMS_RATE_LIMITS.tenant.every((w, i) => p.tenant[i] <= w.limit);
const showPeaks = (p) => `${p.conversation.join('/')} · ${p.tenant.join('/')}`;

// --- the bot -----------------------------------------------------------------------------------------------------

const bots = [];
process.on('exit', () => {
  for (const b of bots) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
  killChildren();
});

/** `node dist/src/index.js` as `npm start` runs it: local mode, SQLite under `dataDir`, the default partners file. */
function startBot(dataDir, port) {
  const child = spawn(process.execPath, ['--disable-warning=DEP0111', BOT_ENTRY], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MicrosoftAppId: '',
      MicrosoftAppPassword: '',
      MONGODB_URI: '',
      PARTNERS_FILE: '',
      ...(LEASE_SECONDS ? { OUTBOX_LEASE_SECONDS: LEASE_SECONDS } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  bots.push(child);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  return {
    child,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

let nextPort = 39_000 + Math.floor(Math.random() * 2000);

// --- seeding -----------------------------------------------------------------------------------------------------

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
let idSeq = 0;
/** Offer ids of the usual shape, distinct within the bench. */
const offerId = () => {
  let n = ++idSeq * 7919 + 104_729;
  let out = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / ALPHABET.length)) out += ALPHABET[n % ALPHABET.length];
  return `T-${out}`;
};

/**
 * `partners` partners, each with its chosen notification channel (a team channel in its own tenant, on the sink), and
 * `perPartner` accepted trial offers each, round robin, each acceptance recorded with its channel notice.
 */
async function seed(store, sinkUrl, run) {
  const now = new Date();
  const iso = now.toISOString();
  const channels = [];
  for (let p = 0; p < P.partners; p++) {
    const tenantId = `00000000-0000-4000-9${String(run).padStart(3, '0')}-${String(p + 1).padStart(12, '0')}`;
    const id = `19:recovery-r${run}-p${p}@thread.tacv2`;
    await store.conversations.upsert({
      id,
      tenantId,
      kind: 'channel',
      reference: {
        channelId: 'msteams',
        serviceUrl: sinkUrl,
        conversation: { id, isGroup: true, conversationType: 'channel', tenantId, name: '' },
        bot: { id: '28:partner-offers', name: 'Partner Offers' },
      },
      active: true,
      updatedAt: iso,
    });
    await store.channels.set(tenantId, {
      conversationId: id,
      tenantId,
      serviceUrl: sinkUrl,
      channelName: 'General',
      teamName: `Partner ${p + 1} Sales`,
      setBy: { aadObjectId: alex.aadObjectId, name: alex.name },
      setAt: iso,
    });
    channels.push({ id, tenantId });
  }
  const person = (u) => ({
    aadObjectId: u.aadObjectId,
    userId: u.id,
    name: u.name,
    tenantId: u.tenantId,
    email: u.email,
    serviceUrl: sinkUrl,
  });
  const seeded = [];
  for (let i = 0; i < N; i++) {
    const c = channels[i % channels.length];
    const offer = {
      id: offerId(),
      kind: 'trial',
      state: 'sent',
      version: 2,
      partnerTenantId: c.tenantId,
      partnerName: `Partner ${(i % channels.length) + 1}`,
      issuedBy: { ...person(alex), tenantId: c.tenantId },
      approverEmail: megan.email,
      approver: person(megan),
      lines: [{ serviceId: 'm365-business-premium', serviceName: 'Microsoft 365 Business Premium', trialDays: 30 }],
      currency: 'USD',
      createdAt: iso,
      expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
      deliveredAt: iso,
    };
    await store.offers.create(offer, []);
    const notice = await channelNotice(
      store,
      c.tenantId,
      { kind: OFFER_CHANNEL, args: { offerId: offer.id } },
      { kind: 'offer', id: offer.id },
    );
    const result = await store.offers.decide(
      applyDecision(offer, 'accepted', now),
      offer.version,
      {
        id: `${offer.id}/offer`,
        subjectKind: 'offer',
        subjectId: offer.id,
        slot: 'offer',
        decision: 'accepted',
        by: { aadObjectId: megan.aadObjectId, name: megan.name, upn: megan.email, tenantId: megan.tenantId },
        at: iso,
        conversationId: megan.conversationId,
        activityId: `1:card-${offer.id}`,
        customerTenantId: megan.tenantId,
      },
      notice,
    );
    if (result.status !== 'recorded' || notice.length !== 1) throw new Error(`seeding: offer ${offer.id} not accepted with its notice`);
    seeded.push({ offerId: offer.id, conversation: c.id, tenant: c.tenantId, order: i });
  }
  return seeded;
}

/** Each seeded offer's outbox entry as the store holds it now. */
async function entriesOf(store, seeded) {
  const out = new Map();
  for (const e of seeded) {
    const list = await store.outbox.forSubject(e.offerId);
    if (list.length !== 1) throw new Error(`offer ${e.offerId} has ${list.length} outbox entries`);
    out.set(e.offerId, list[0]);
  }
  return out;
}

// --- one run -----------------------------------------------------------------------------------------------------

async function run(i, sink) {
  const name = `run${i}`;
  const dataDir = mkdtempSync(join(os.tmpdir(), 'partner-offers-bench-recovery-'));
  const store = await openStore(loadConfig({ DATA_DIR: dataDir, MONGODB_URI: '' }), pino({ level: 'silent' }));
  try {
    const seeded = await seed(store, sink.url, i);
    const ids = new Set(seeded.map((e) => e.offerId));

    const first = startBot(dataDir, nextPort++);
    await sink.ask('arm', { pid: first.child.pid, after: P.killAfter });
    const began = wall();
    for (;;) {
      const p = await sink.ask('progress');
      if (p.killedAt !== undefined) break;
      if (first.child.exitCode !== null || (first.child.signalCode !== null && first.child.signalCode !== 'SIGKILL'))
        throw new Error(`${name}: the bot exited before the kill:\n${first.stderr()}`);
      if (wall() - began > 120_000) throw new Error(`${name}: ${P.killAfter} requests never arrived (${p.arrivals})\n${first.stderr()}`);
      await sleep(5);
    }
    const ended = await first.exited;
    if (ended.signal !== 'SIGKILL') throw new Error(`${name}: the bot ended with ${ended.code ?? ended.signal}, not SIGKILL`);
    const { killedAt } = await sink.ask('progress');

    // The outbox as the kill left it (the dead process changes nothing now), then the restart at once.
    const atKill = await entriesOf(store, seeded);
    const before = (await sink.ask('records')).records;
    const restartAt = wall();
    const second = startBot(dataDir, nextPort++);

    const pending = [...atKill].filter(([, e]) => e.state === 'pending').map(([id]) => id);
    const leased = [...atKill].filter(([, e]) => e.state === 'pending' && e.lease && Date.parse(e.lease.until) > killedAt);
    const leaseEnds = new Map(leased.map(([id, e]) => [id, Date.parse(e.lease.until)]));
    const arrivedBefore = new Set(before.flatMap((r) => r.offerIds.filter((id) => ids.has(id))));
    const inFlight = new Set(pending.filter((id) => arrivedBefore.has(id)));

    let stalled = false;
    for (let last = -1, lastChange = wall(); ;) {
      const st = await store.outbox.stats();
      if (st.pending === 0) break;
      const p = await sink.ask('progress');
      if (p.arrivals !== last) [last, lastChange] = [p.arrivals, wall()];
      if (wall() - lastChange > 90_000) {
        stalled = true;
        break;
      }
      await sleep(50);
    }
    await second.stop();
    await sleep(300);
    const { records } = await sink.ask('records');
    const final = await entriesOf(store, seeded);

    const after = records.slice(before.length);
    const arrivals = new Map();
    for (const r of records) for (const id of r.offerIds) if (ids.has(id)) arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
    const duplicated = [...arrivals].filter(([, n]) => n > 1).map(([id]) => id);
    const lost = seeded.filter((e) => !arrivals.has(e.offerId) || final.get(e.offerId).state !== 'sent').map((e) => e.offerId);
    const failed = [...final.values()].filter((e) => e.state === 'failed').length;
    const unknown = records.filter((r) => !r.activity || r.offerIds.filter((id) => ids.has(id)).length !== 1).length;
    const early = after.filter((r) => r.offerIds.some((id) => leaseEnds.has(id) && r.at < leaseEnds.get(id))).length;

    // The bound: what was pending at the kill, each entry one request, all ready at once, Teams' windows, each
    // conversation in order (the best of the ideal sender's priority rules).
    const byId = new Map(seeded.map((e) => [e.offerId, e]));
    const idealEntries = pending.map((id) => {
      const e = byId.get(id);
      return { key: id, conversation: e.conversation, tenant: e.tenant, order: e.order, chain: ['ok'] };
    });
    const limits = { conversation: TEAMS_RATE_LIMITS.conversation, tenant: TEAMS_RATE_LIMITS.tenant };
    const ideal = idealEntries.length ? bestSchedule({ entries: idealEntries, limits, fifo: true }).makespanMs : 0;
    const lower = idealEntries.length ? lowerBound({ entries: idealEntries, limits }).ms : 0;

    const firstAfter = after[0]?.at ?? NaN;
    const lastAfter = after.at(-1)?.at ?? NaN;
    const r = {
      name,
      seeded: N,
      sentBefore: before.length,
      markedAtKill: [...atKill.values()].filter((e) => e.state === 'sent').length,
      pending: pending.length,
      leased: leased.length,
      inFlight: inFlight.size,
      leaseLeftMs: leased.length ? Math.max(...leaseEnds.values()) - killedAt : 0,
      killToRestartMs: restartAt - killedAt,
      firstSendMs: firstAfter - restartAt,
      killToFirstMs: firstAfter - killedAt,
      allDeliveredMs: lastAfter - restartAt,
      spanMs: lastAfter - firstAfter,
      idealMs: ideal,
      lowerMs: lower,
      ratio: ideal > 0 ? (lastAfter - firstAfter) / ideal : NaN,
      duplicates: duplicated.length,
      dupNotInFlight: duplicated.filter((id) => !inFlight.has(id)).length,
      maxArrivals: Math.max(...arrivals.values()),
      lost: lost.length,
      lostExamples: lost.slice(0, 5),
      failed,
      unknown,
      early,
      stalled,
      peaks: { before: peaks(before), after: peaks(after), all: peaks(records) },
      requestsAfter: after.length,
    };
    log(
      `${name}: ${r.sentBefore} requests before the kill, ${r.pending} pending at it (${r.leased} leased by the dead process, ${r.inFlight} in flight); ` +
        `restart ${fmt(r.killToRestartMs, 0)} ms after the kill; first send ${s(r.firstSendMs, 2)} after the restart; all delivered ${s(r.allDeliveredMs, 2)} after it ` +
        `(first → last ${s(r.spanMs, 2)}, bound ${s(r.idealMs, 2)}, ${fmt(r.ratio, 2)}×); lost ${r.lost}, duplicates ${r.duplicates} (${r.dupNotInFlight} not in flight)`,
    );
    return r;
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// --- report ------------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const CODE = codeVersion();
  log(
    `node ${process.version}, ${os.cpus().length} CPUs; ${N} partner-channel notices per run (${P.partners} partners × ${P.perPartner}), SIGKILL after ${P.killAfter} requests, ${P.runs} runs; lease ${LEASE_SECONDS ? `${LEASE_SECONDS} s (BENCH_LEASE_SECONDS)` : 'the default'}; code ${CODE.text}`,
  );
  const sink = startChild('lib/recovery-sink.mjs', 'sink', { readyTimeoutMs: 60_000 });
  sink.url = (await sink.ready).url;
  const runs = [];
  for (let i = 1; i <= P.runs; i++) runs.push(await run(i, sink));
  await sink.stop();

  const per = (f) => runs.map(f);
  const every = (f) => runs.every(f);
  const ms = (v) => s(v, 2);
  const int = (v) => (Number.isFinite(v) ? String(Math.round(v)) : 'n/a');
  const row = (what, f, show, goal = '', met) => [
    what,
    ...per((r) => show(f(r))),
    show(median(per(f))),
    goal,
    met === undefined ? '' : met ? 'met' : '**no**',
  ];
  const text = (what, f) => [what, ...per(f), '', '', ''];
  const lim = TEAMS_RATE_LIMITS;
  const rows = [
    row('Requests before the kill', (r) => r.sentBefore, int),
    row('Pending at the kill', (r) => r.pending, int),
    row('  leased by the dead process', (r) => r.leased, int),
    row('  in flight (at the sink, not marked sent)', (r) => r.inFlight, int),
    row("  the dead process's leases ran on for", (r) => r.leaseLeftMs, ms),
    row(
      'Kill → restart',
      (r) => r.killToRestartMs,
      (v) => `${fmt(v, 0)} ms`,
    ),
    row(
      'Restart → first send',
      (r) => r.firstSendMs,
      ms,
      `< ${s(GOALS.firstSendMs, 0)}`,
      every((r) => r.firstSendMs < GOALS.firstSendMs),
    ),
    row('Kill → first send', (r) => r.killToFirstMs, ms),
    row('Restart → all delivered', (r) => r.allDeliveredMs, ms),
    row('First send → all delivered', (r) => r.spanMs, ms),
    row("Bound: Teams' limits for what was pending", (r) => r.idealMs, ms),
    row(
      'First send → all delivered ÷ bound',
      (r) => r.ratio,
      (v) => fmt(v, 2),
      `≤ ${GOALS.ratio}`,
      every((r) => r.ratio <= GOALS.ratio),
    ),
    row(
      'Lost (never delivered, or not sent in the store)',
      (r) => r.lost,
      int,
      '0',
      every((r) => r.lost === 0),
    ),
    row(
      'Failed',
      (r) => r.failed,
      int,
      '0',
      every((r) => r.failed === 0),
    ),
    row(
      'Duplicates (entries delivered twice)',
      (r) => r.duplicates,
      int,
      '≤ in flight',
      every((r) => r.duplicates <= r.inFlight && r.dupNotInFlight === 0),
    ),
    text(
      `Peaks per conversation ${lim.conversation.map((w) => `${w.limit}/${w.windowMs >= 3_600_000 ? '1h' : `${w.windowMs / 1000}s`}`).join(', ')} · per tenant ${lim.tenant.map((w) => `${w.limit}/${w.windowMs / 1000}s`).join(', ')}: before the kill`,
      (r) => showPeaks(r.peaks.before),
    ),
    text('  after the restart', (r) => showPeaks(r.peaks.after)),
    text('  across the kill', (r) => showPeaks(r.peaks.all)),
  ];
  const verification = [
    [
      'nothing lost, nothing failed',
      every((r) => r.lost === 0 && r.failed === 0),
      per((r) => `${r.lost} lost, ${r.failed} failed${r.lostExamples.length ? ` (${r.lostExamples.join(', ')})` : ''}`).join('; '),
    ],
    [
      `duplicates only of requests in flight at the kill, each delivered at most twice, no more than the deliverer's ${IN_FLIGHT_MAX} in flight`,
      every((r) => r.dupNotInFlight === 0 && r.duplicates <= r.inFlight && r.maxArrivals <= 2 && r.inFlight <= IN_FLIGHT_MAX),
      per((r) => `${r.duplicates} duplicates, ${r.inFlight} in flight`).join('; '),
    ],
    [
      "no entry sent again before the dead process's lease on it ran out",
      every((r) => r.early === 0),
      per((r) => `${r.early} early`).join(', '),
    ],
    [
      "each process within Teams' limits",
      every((r) => withinLimits(r.peaks.before) && withinLimits(r.peaks.after)),
      per((r) => `${showPeaks(r.peaks.before)} | ${showPeaks(r.peaks.after)}`).join('; '),
    ],
    ['every request was a new activity naming one seeded offer', every((r) => r.unknown === 0), per((r) => r.unknown).join(', ')],
    [
      'some forty or more were pending at the kill, most leased by the dead process',
      every((r) => r.pending >= 40 && r.leased >= r.pending / 2),
      per((r) => `${r.pending} pending, ${r.leased} leased`).join('; '),
    ],
    ['no run stalled', every((r) => !r.stalled), per((r) => (r.stalled ? 'stalled' : 'ok')).join(', ')],
  ];
  const verified = verification.every(([, ok]) => ok);
  const notGoals = rows.filter((r) => r.at(-1) === '**no**').map((r) => r[0]);
  const header = ['Measure', ...runs.map((r) => r.name.replace('run', 'Run ')), 'Median', 'Goal', 'Met'];
  const notes = [
    `The bound is the ideal sender of bench/lib/notify-ideal.mjs for the entries pending at the kill (one request each, all ready at once, each conversation in order): ${per((r) => ms(r.idealMs)).join(', ')}; no sender could beat ${per((r) => ms(r.lowerMs)).join(', ')} (each limit alone). "First send → all delivered" runs from the new process's first request to the last request it sent; "restart → all delivered" adds the wait for the dead process's leases and the start of the new one. The first send can come no sooner than the later of the new process's start (plus its 2 s quiet start, for Teams' 1 s and 2 s windows across the restart) and the end of the dead process's last lease renewal (at most one lease, 8 s by default).`,
  ];
  console.log('');
  console.log(table(header, rows));
  console.log('');
  for (const n of notes) console.log(`${n}\n`);
  for (const [what, ok, detail] of verification) console.log(`${ok ? 'ok  ' : 'FAIL'} ${what} (${detail})`);
  console.log(notGoals.length ? `\nGoals not met: ${notGoals.join('; ')}` : '\nAll goals met.');
  const totalS = (Date.now() - started) / 1000;
  console.log(`Bench took ${fmt(totalS, 0)} s.`);
  if (isDefault && verified) {
    writeResults({ header, rows, runs, notes, verification, totalS, CODE });
    console.log('Wrote the recovery section of bench/RESULTS.md.');
  } else if (!verified) console.log('Verification failed: bench/RESULTS.md not updated.');
  else console.log('Non-default parameters: bench/RESULTS.md not updated.');
  if (!verified) process.exitCode = 1;
}

function writeResults({ header, rows, runs, notes, verification, totalS, CODE }) {
  const file = join(here, 'RESULTS.md');
  const cpus = os.cpus();
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const machine = `${cpus.length} cores (${cpus[0]?.model?.trim() ?? 'unknown CPU'}), ${fmt(os.totalmem() / 1024 ** 3)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const generated = [
    '<!-- recovery:begin (generated by bench/recovery.mjs; edit outside these markers) -->',
    `### Latest run: ${date}`,
    '',
    `- Command: \`npm run bench:recovery\` (builds, then \`node bench/recovery.mjs\`); took ${fmt(totalS, 0)} s after the build.`,
    `- Machine: ${machine}.`,
    `- Code: ${CODE.text}.`,
    `- Load per run: ${N} partner-channel notices (${P.partners} partners, each its own team channel in its own tenant, ${P.perPartner} accepted offers each), queued through \`offers.decide\` before the bot starts; the built bot (\`node dist/src/index.js\`, default lease) killed with SIGKILL by the sink when ${P.killAfter} requests have arrived, restarted at once on the same SQLite file; ${P.runs} runs, each on a fresh file.`,
    '',
    table(header, rows),
    '',
    ...notes.flatMap((n) => [n, '']),
    'Checked after the runs:',
    '',
    ...verification.map(([what, ok, detail]) => `- ${ok ? '[x]' : '[ ] FAILED:'} ${what} (${detail})`),
    '<!-- recovery:end -->',
  ].join('\n');
  const med = (f) => median(runs.map(f));
  const max = (f) => Math.max(...runs.map(f));
  const historyRow = `| ${date} | ${CODE.commit} | ${cpus.length} | ${process.version} | ${fmt(
    med((r) => r.pending),
    0,
  )} | ${fmt(
    med((r) => r.inFlight),
    0,
  )} | ${s(
    med((r) => r.firstSendMs),
    2,
  )} / ${s(
    max((r) => r.firstSendMs),
    2,
  )} | ${s(
    med((r) => r.allDeliveredMs),
    2,
  )} | ${fmt(
    med((r) => r.ratio),
    2,
  )} / ${fmt(
    max((r) => r.ratio),
    2,
  )} | ${runs.reduce((n, r) => n + r.lost, 0)} | ${runs.map((r) => r.duplicates).join(', ')} |`;
  updateResultsFile(file, {
    key: 'recovery',
    generated,
    history: {
      key: 'recovery-history',
      header: [
        '| Date | Code | Cores | Node | Pending at kill (median) | In flight (median) | Restart → first send, median / max | Restart → all delivered (median) | ÷ bound, median / max | Lost | Duplicates (each run) |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
      ],
      row: historyRow,
    },
    placeNew: appendSection('# Benchmark: recovery after a crash (`npm run bench:recovery`)'),
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
  killChildren();
});
