import { cardAction, message } from '../support/activities';
import type { TeamsUser } from '../support/people';

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Random = ReturnType<typeof seeded>;

/** One request as sent on the wire. */
export interface FuzzRequest {
  /** What the generator meant to send, for the failure message. */
  what: string;
  body: Buffer;
  headers: Record<string, string>;
  /** The activity, when the body is one (possibly malformed). */
  activity?: Record<string, unknown>;
}

export interface FuzzWorld {
  sinkUrl: string;
  partner: TeamsUser;
  /** Parties who must never get anything recorded: another tenant, and a colleague of the approver. */
  outsiders: TeamsUser[];
  approver: TeamsUser;
  /** Ids that exist, so authorization is what is tested and not only "not found". */
  ids: { offers: string[]; relationships: string[]; listings: string[]; leads: string[] };
}

const WORDS = [
  'trial',
  'offer',
  'delegate',
  'status',
  'customers',
  'help',
  'find',
  'listing',
  'notify',
  'offers',
  'partners',
  'support',
  'revoke',
  'withdraw',
  'teams',
  'in',
  'language',
  'days',
  'roles',
  'with',
  'admin',
  'as',
  'partner',
  'of',
  'record',
  'monthly',
  'annual',
  'term',
  'billing',
  'years',
  'constructor',
  'auto-extend',
];
const NASTY = [
  '',
  ' ',
  '\u0000',
  '\uFFFD\uFFFE',
  '<at>Partner Offers</at>',
  '<script>alert(1)</script>',
  '[click](https://evil.example)',
  '{"$ne":null}',
  '$where',
  '../../etc/passwd',
  '%s%s%n',
  '🙂'.repeat(50),
  'a'.repeat(3_000),
  'T-',
  'D-ZZZZZZ',
  'P-000000',
  'M-',
  'L-AAAAAA',
  'admin@contoso.com',
  'admin@@contoso',
  '@',
  'x@y',
  '-1',
  '0',
  '99999999999999999999',
  'NaN',
  '1e308',
  '25 m365-business-premium',
  'm365-business-premium',
];
const VERBS = [
  'offer.accept',
  'offer.decline',
  'offer.view',
  'delegation.approve',
  'delegation.decline',
  'delegation.view',
  'delegation.revoke',
  'delegation.keep',
  'por.accept',
  'por.decline',
  'por.view',
  'listing.edit',
  'listing.save',
  'listing.publish',
  'listing.unpublish',
  'lead.request',
  'lead.trial',
  'find.more',
  'notify.retry',
  'no.such',
  'offer',
  '',
  'OFFER.ACCEPT',
];

/** A value of a random JSON type, sometimes one that tries to be a query operator or is very large. */
function junk(r: Random, depth = 0): unknown {
  switch (r.int(depth > 1 ? 6 : 9)) {
    case 0:
      return r.pick(NASTY);
    case 1:
      return r.int(2) ? r.int(1_000_000) - 500_000 : r.next() * 1e12;
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return r.pick(WORDS);
    case 6:
      return [junk(r, depth + 1), junk(r, depth + 1)];
    case 7:
      return { $ne: junk(r, depth + 1) };
    default:
      return { [r.pick(['id', 'type', 'verb', 'offerId', '$gt', '__proto__'])]: junk(r, depth + 1) };
  }
}

function commandText(r: Random, world: FuzzWorld): string {
  const n = 1 + r.int(6);
  const parts: string[] = [r.pick(WORDS)];
  for (let i = 1; i < n; i++) {
    parts.push(
      r.pick([...WORDS, ...NASTY, ...world.ids.offers, ...world.ids.relationships, 'admin@contoso.com', '25', 'm365-business-premium,']),
    );
  }
  // The partner never withdraws or revokes here: those record answers of their own, and the run checks nothing new
  // is recorded.
  if (parts[0] === 'withdraw' || parts[0] === 'revoke' || (parts[0] === 'delegate' && parts[1] === 'revoke')) parts[0] = 'status';
  return parts.join(r.pick([' ', '  ', ', ', '\n', '\t']));
}

function actionData(r: Random, world: FuzzWorld): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const fields = [
    'offerId',
    'relationshipId',
    'listingId',
    'leadId',
    'reason',
    'reason_delegation',
    'replaces',
    'q',
    'page',
    'ids',
    'headline',
    'services',
  ];
  for (let i = r.int(4); i >= 0; i--) {
    const field = r.pick(fields);
    data[field] = r.chance(0.5)
      ? r.pick([...world.ids.offers, ...world.ids.relationships, ...world.ids.listings, ...world.ids.leads, 'new'])
      : junk(r);
  }
  return data;
}

/** Deletes or retypes one field somewhere in the activity. */
function mutate(r: Random, activity: Record<string, unknown>): string {
  const paths = [
    ['type'],
    ['serviceUrl'],
    ['from'],
    ['from', 'id'],
    ['from', 'aadObjectId'],
    ['recipient'],
    ['conversation'],
    ['conversation', 'id'],
    ['conversation', 'tenantId'],
    ['channelData'],
    ['channelData', 'tenant', 'id'],
    ['text'],
    ['entities'],
    ['value'],
    ['value', 'action'],
    ['value', 'action', 'verb'],
    ['value', 'trigger'],
    ['replyToId'],
    ['channelId'],
    ['timestamp'],
    ['name'],
    ['entities', '0'],
  ];
  const path = r.pick(paths);
  let node = activity;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const value = junk(r);
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return `${path.join('.')} = ${JSON.stringify(value)?.slice(0, 40)}`;
}

const json = { 'content-type': 'application/json' };

/** One request: a command, a card action, a mutated activity, or raw bytes. */
export function nextRequest(r: Random, world: FuzzWorld): FuzzRequest {
  const kind = r.int(10);
  const anyone = [world.partner, world.approver, ...world.outsiders];
  const serviceUrl = r.chance(0.95) ? world.sinkUrl : r.pick(['http://127.0.0.1:1/', 'https://smba.trafficmanager.net/amer/']);

  if (kind <= 2) {
    const as = r.pick(anyone);
    const text = commandText(r, world);
    const activity = message(text, as, serviceUrl) as Record<string, unknown>;
    return {
      what: `${as.name} types ${JSON.stringify(text.slice(0, 80))}`,
      body: Buffer.from(JSON.stringify(activity)),
      headers: json,
      activity,
    };
  }
  if (kind <= 6) {
    const as = r.pick(anyone);
    const verb = r.pick(VERBS);
    // The approver is the one person whose click may record; here it only arrives as a refresh, which never may.
    const trigger = as === world.approver || r.chance(0.3) ? 'automatic' : 'manual';
    const data = actionData(r, world);
    const activity = cardAction(verb, data, as, serviceUrl, { trigger }) as Record<string, unknown>;
    return {
      what: `${as.name} ${trigger} ${verb} ${JSON.stringify(data).slice(0, 120)}`,
      body: Buffer.from(JSON.stringify(activity)),
      headers: json,
      activity,
    };
  }
  if (kind <= 8) {
    const as = r.pick(anyone);
    const base = r.chance(0.5)
      ? (cardAction(r.pick(VERBS), actionData(r, world), as, serviceUrl, { trigger: 'automatic' }) as Record<string, unknown>)
      : (message(commandText(r, world), as, serviceUrl) as Record<string, unknown>);
    if (base.type === 'invoke' && r.chance(0.2))
      base.name = r.pick([
        'fileConsent/invoke',
        'composeExtension/query',
        'composeExtension/submitAction',
        'task/fetch',
        'signin/verifyState',
        'config/fetch',
        'message/submitAction',
      ]);
    const changes = [mutate(r, base)];
    if (r.chance(0.3)) changes.push(mutate(r, base));
    return {
      what: `${as.name} ${String(base.type)} with ${changes.join('; ')}`,
      body: Buffer.from(JSON.stringify(base)),
      headers: json,
      activity: base,
    };
  }
  const raw = r.pick([
    () => ({ what: 'gzip header, plain body', body: Buffer.from('{"type":"message"}'), headers: { ...json, 'content-encoding': 'gzip' } }),
    () => ({ what: 'deflate header, junk', body: Buffer.from([0x78, 0x9c, 1, 2, 3]), headers: { ...json, 'content-encoding': 'deflate' } }),
    () => ({ what: 'truncated JSON', body: Buffer.from('{"type":"message","text":"he'), headers: json }),
    () => ({ what: 'binary junk', body: Buffer.from(Array.from({ length: 64 }, () => r.int(256))), headers: json }),
    () => ({ what: 'a JSON string', body: Buffer.from('"message"'), headers: json }),
    () => ({ what: 'no content type', body: Buffer.from('{"type":"message"}'), headers: {} }),
    () => ({
      what: 'multipart',
      body: Buffer.from('--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n'),
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    }),
    () => ({ what: 'deep nesting', body: Buffer.from(`${'['.repeat(5_000)}${']'.repeat(5_000)}`), headers: json }),
  ]);
  return raw();
}
