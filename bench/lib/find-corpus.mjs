// The corpus and the queries of `npm run bench:find`, both from a seeded PRNG, so the seeding process and the
// orchestrator build exactly the same ones from the same numbers. Also the ground truth the orchestrator checks the
// bot's replies against: which listings each query matches, computed here from the listings' text with an inverted
// index (every query term prefix-matched against the listing's tokens, OR-ed, then the country and language filters),
// independently of SQLite's FTS5.
//
// Listings look like partners' real ones: headlines and descriptions built from a vocabulary of Microsoft cloud
// partner topics with Zipf-like weights (security and migrations everywhere, Purview or kiosk devices rarely), 1-5
// catalog services within 3-10 authorized ones, 0-6 expertise tags, 1-6 countries weighted towards the big markets,
// 1-3 languages of those countries. Every partner has a coined brand name; about half of the listings name it in the
// headline or the description, which gives queries that match exactly one listing (and a ranking check).

/** mulberry32: small, fast, good enough for picking words. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const hex = (n, width) => n.toString(16).padStart(width, '0');

function picker(random) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const one = (xs) => xs[Math.floor(random() * xs.length)];
  /** From [value, weight] pairs. */
  const weighted = (pairs) => {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = random() * total;
    for (const [v, w] of pairs) if ((r -= w) < 0) return v;
    return pairs[pairs.length - 1][0];
  };
  /** n distinct values, weighted. */
  const distinct = (pairs, n) => {
    const out = [];
    let left = pairs.slice();
    while (out.length < n && left.length) {
      const v = weighted(left);
      out.push(v);
      left = left.filter(([x]) => x !== v);
    }
    return out;
  };
  return { int, one, weighted, distinct, chance: (p) => random() < p };
}

// --- vocabulary -----------------------------------------------------------------------------------------------

/** Headline topics, with the catalog services they go with (so services and words agree). */
const TOPICS = [
  ['Microsoft 365 security', 10, ['m365-business-premium', 'defender-business', 'm365-e5']],
  ['Exchange migrations', 8, ['exchange-online-p1', 'exchange-online-p2', 'm365-business-standard']],
  ['Teams rollouts', 6, ['teams-essentials', 'teams-premium']],
  ['Teams voice', 6, ['teams-phone-standard', 'teams-premium']],
  ['Copilot adoption', 6, ['copilot-m365', 'm365-e3']],
  ['Azure backup', 5, ['m365-business-premium']],
  ['Intune device management', 5, ['intune-p1', 'm365-business-premium']],
  ['compliance', 6, ['m365-e5', 'm365-e3']],
  ['managed IT', 4, ['m365-business-basic', 'm365-business-standard']],
  ['Defender endpoint protection', 4, ['defender-business', 'm365-e5']],
  ['Entra ID identity', 4, ['entra-id-p1', 'entra-id-p2']],
  ['SharePoint intranets', 4, ['sharepoint-online-p1', 'm365-business-standard']],
  ['email security', 4, ['exchange-online-p2', 'defender-business']],
  ['licensing advice', 3, ['m365-business-basic', 'office-365-e1', 'office-365-e3']],
  ['hybrid work', 3, ['m365-business-standard', 'teams-essentials']],
  ['OneDrive file migrations', 3, ['onedrive-p1', 'sharepoint-online-p1']],
  ['Dynamics 365 CRM', 3, ['m365-business-standard']],
  ['zero trust', 3, ['entra-id-p2', 'intune-p1']],
  ['Power Platform automation', 2, ['m365-e3', 'm365-apps-business']],
  ['disaster recovery', 2, ['m365-business-premium']],
  ['tenant to tenant migrations', 2, ['m365-e3', 'exchange-online-p1']],
  ['Google Workspace migrations', 2, ['m365-business-standard', 'exchange-online-p1']],
  ['data governance with Purview', 2, ['m365-e5']],
  ['Sentinel monitoring', 1, ['m365-e5', 'defender-business']],
  ['frontline kiosk devices', 1, ['intune-p1', 'office-365-e1']],
  ['telephony and call centres', 1, ['teams-phone-standard']],
];
const TOPIC_W = TOPICS.map(([t, w]) => [t, w]);

const INDUSTRIES = [
  ['small businesses', 10],
  ['mid-sized companies', 6],
  ['healthcare', 4],
  ['schools', 3],
  ['universities', 2],
  ['nonprofits', 3],
  ['law firms', 3],
  ['manufacturers', 3],
  ['retailers', 3],
  ['banks', 2],
  ['the public sector', 3],
  ['startups', 2],
  ['hospitality', 1],
  ['logistics', 1],
  ['architects', 1],
];
const ADJECTIVES = ['Certified', 'Fast', 'Local', 'Fixed-price', 'Secure', 'Friendly', '24x7', 'Hands-on', 'Award-winning'];

const EXPERTISE = [
  ['security', 10],
  ['migrations', 8],
  ['compliance', 6],
  ['identity', 5],
  ['Teams adoption', 5],
  ['Teams voice', 4],
  ['backup', 4],
  ['managed services', 5],
  ['endpoint management', 4],
  ['Copilot readiness', 4],
  ['data governance', 2],
  ['SharePoint intranets', 3],
  ['Power Platform', 2],
  ['Dynamics 365', 2],
  ['Azure infrastructure', 3],
  ['licensing', 3],
  ['training', 4],
  ['healthcare', 2],
  ['education', 2],
  ['nonprofits', 1],
  ['manufacturing', 1],
  ['financial services', 1],
  ['retail', 1],
  ['public sector', 2],
  ['zero trust', 2],
  ['email security', 3],
  ['hybrid work', 2],
  ['change management', 2],
  ['cost optimisation', 1],
  ['GDPR', 1],
  ['HIPAA', 1],
  ['ransomware recovery', 1],
  ['helpdesk', 2],
  ['workshops', 1],
];

const RARE_WORDS = ['ransomware', 'phishing', 'audits', 'GDPR', 'HIPAA', 'ISO 27001', 'onboarding', 'workshops', 'helpdesk', 'SLA-backed'];

const COUNTRIES = [
  ['US', 20],
  ['GB', 14],
  ['DE', 12],
  ['FR', 8],
  ['NL', 6],
  ['CA', 6],
  ['AU', 6],
  ['IN', 5],
  ['ES', 4],
  ['IT', 4],
  ['SE', 3],
  ['IE', 3],
  ['CH', 3],
  ['AT', 3],
  ['BE', 3],
  ['DK', 2],
  ['NO', 2],
  ['FI', 2],
  ['PL', 2],
  ['PT', 2],
  ['BR', 2],
  ['MX', 2],
  ['JP', 2],
  ['SG', 2],
  ['NZ', 2],
  ['ZA', 2],
  ['AE', 1],
  ['LU', 0.5],
  ['IS', 0.3],
  ['EE', 0.3],
];
const COUNTRY_NAMES = {
  US: 'United States',
  GB: 'United Kingdom',
  DE: 'Germany',
  FR: 'France',
  NL: 'Netherlands',
  CA: 'Canada',
  AU: 'Australia',
  IN: 'India',
  ES: 'Spain',
  IT: 'Italy',
  SE: 'Sweden',
  IE: 'Ireland',
  CH: 'Switzerland',
  AT: 'Austria',
  BE: 'Belgium',
  DK: 'Denmark',
  NO: 'Norway',
  FI: 'Finland',
  PL: 'Poland',
  PT: 'Portugal',
  BR: 'Brazil',
  MX: 'Mexico',
  JP: 'Japan',
  SG: 'Singapore',
  NZ: 'New Zealand',
  ZA: 'South Africa',
  AE: 'United Arab Emirates',
  LU: 'Luxembourg',
  IS: 'Iceland',
  EE: 'Estonia',
};
const LANGUAGES_OF = {
  US: ['en', 'es'],
  GB: ['en'],
  DE: ['de'],
  FR: ['fr'],
  NL: ['nl'],
  CA: ['en', 'fr'],
  AU: ['en'],
  IN: ['en', 'hi'],
  ES: ['es'],
  IT: ['it'],
  SE: ['sv'],
  IE: ['en'],
  CH: ['de', 'fr', 'it'],
  AT: ['de'],
  BE: ['nl', 'fr'],
  DK: ['da'],
  NO: ['nb'],
  FI: ['fi'],
  PL: ['pl'],
  PT: ['pt'],
  BR: ['pt'],
  MX: ['es'],
  JP: ['ja'],
  SG: ['en', 'zh'],
  NZ: ['en'],
  ZA: ['en'],
  AE: ['ar', 'en'],
  LU: ['fr', 'de'],
  IS: ['is'],
  EE: ['et'],
};
const LANGUAGE_NAMES = {
  en: 'English',
  de: 'German',
  fr: 'French',
  es: 'Spanish',
  nl: 'Dutch',
  it: 'Italian',
  pt: 'Portuguese',
  ja: 'Japanese',
  sv: 'Swedish',
  pl: 'Polish',
};

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ra',
  'ven',
  'tor',
  'zu',
  'bel',
  'dri',
  'fen',
  'gal',
  'hos',
  'jir',
  'kel',
  'lum',
  'mar',
  'nox',
  'pel',
  'quen',
  'ros',
  'sil',
  'tav',
  'ul',
  'vor',
  'wen',
  'xan',
  'yel',
  'zen',
  'bri',
  'cor',
  'dal',
  'eno',
];
const SUFFIXES = [
  'Cloud',
  'IT',
  'Consulting',
  'Technologies',
  'Managed Services',
  'Solutions',
  'Digital',
  'Systems',
  'Partners',
  'Networks',
];
const FIRST = [
  'Alex',
  'Sam',
  'Maria',
  'Jonas',
  'Priya',
  'Chen',
  'Fatima',
  'Lukas',
  'Emma',
  'Noah',
  'Sofia',
  'Mateo',
  'Aisha',
  'Oliver',
  'Yuki',
  'Lena',
];
const LAST = [
  'Berg',
  'Novak',
  'Silva',
  'Khan',
  'Meyer',
  'Rossi',
  'Dubois',
  'Jensen',
  'Walsh',
  'Tanaka',
  'Kowalski',
  'Santos',
  'Fischer',
  'Reid',
  'Haas',
  'Lind',
];

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const listOf = (xs) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

// --- corpus ---------------------------------------------------------------------------------------------------

/**
 * `count` partners, each in a tenant of its own, each with a published listing (a partners-file entry: the partner
 * plus its ListingSeed). `serviceIds` are the catalog's ids: a listing's services are within its partner's authorized
 * ones, as validateListing requires.
 */
export function buildCorpus({ count, seed, serviceIds }) {
  const random = prng(seed);
  const p = picker(random);
  const brands = new Set();
  const brand = () => {
    for (;;) {
      const b = Array.from({ length: p.int(2, 3) }, () => p.one(SYLLABLES)).join('');
      // At least 6 letters, and no brand a prefix of another (a brand query must find its own listing only).
      if (b.length < 6 || brands.has(b)) continue;
      let clash = false;
      for (const o of brands) if (o.startsWith(b) || b.startsWith(o)) clash = true;
      if (clash) continue;
      brands.add(b);
      return b;
    }
  };
  const entries = [];
  for (let i = 0; i < count; i++) {
    const b = brand();
    const Brand = cap(b);
    const name = `${Brand} ${p.one(SUFFIXES)}`;
    const topics = p.distinct(TOPIC_W, p.int(1, 3));
    const related = [...new Set(topics.flatMap((t) => TOPICS.find((x) => x[0] === t)[2]))];
    const others = serviceIds.filter((s) => !related.includes(s));
    const authorized = [
      ...new Set([
        ...related,
        ...p.distinct(
          others.map((s) => [s, 1]),
          p.int(1, 7),
        ),
      ]),
    ].slice(0, 10);
    const services = [...new Set([...related.slice(0, p.int(1, 3)), ...(p.chance(0.4) ? [p.one(authorized)] : [])])].slice(0, 5);
    const industry = p.weighted(INDUSTRIES);
    const countries = p.distinct(
      COUNTRIES,
      p.weighted([
        [1, 4],
        [2, 4],
        [3, 3],
        [4, 2],
        [5, 1],
        [6, 1],
      ]),
    );
    const spoken = [...new Set(countries.flatMap((c) => LANGUAGES_OF[c]))];
    const languages = [
      ...new Set([
        ...(p.chance(0.7) || !spoken.length ? ['en'] : []),
        ...p.distinct(
          spoken.map((l) => [l, 1]),
          p.int(1, 2),
        ),
      ]),
    ].slice(0, 3);
    const brandWhere = p.weighted([
      ['headline', 3],
      ['description', 2],
      ['none', 5],
    ]);

    let headline;
    for (let tries = 0; ; tries++) {
      const [t1, t2, t3] = [...topics, ...p.distinct(TOPIC_W, 3)].filter((t, k, all) => all.indexOf(t) === k);
      const shape = brandWhere === 'headline' ? p.int(0, 1) : p.int(2, 5);
      headline = [
        `${Brand}: ${t1} and ${t2} for ${industry}`,
        `${Brand} ${t1} for ${industry}`,
        `${cap(t1)} for ${industry}`,
        `${cap(t1)} and ${t2} for ${industry}`,
        `${cap(t1)}, ${t2} and ${t3}`,
        `${p.one(ADJECTIVES)} ${t1} for ${industry}`,
      ][shape];
      if (headline.length <= 100 || tries > 20) break;
    }
    if (headline.length > 100) headline = `${Brand}: ${topics[0]}`;

    const sentences = [];
    const t = () => p.weighted(TOPIC_W);
    sentences.push(
      p.one([
        `We help ${industry} with ${t()} and ${t()}.`,
        `Typical projects: ${listOf([t(), t(), t()])}.`,
        `Fixed-price packages for ${t()}, with training for your staff.`,
      ]),
    );
    if (brandWhere === 'description')
      sentences.push(`${Brand} has ${p.int(3, 400)} certified engineers in ${listOf(countries.map((c) => COUNTRY_NAMES[c]))}.`);
    if (p.chance(0.5))
      sentences.push(`Founded in ${p.int(1995, 2022)}, we have moved ${p.int(2, 900) * 100} mailboxes to Exchange Online.`);
    if (p.chance(0.4)) sentences.push(`Also ${p.one(RARE_WORDS)} and ${p.one(RARE_WORDS)} for ${p.weighted(INDUSTRIES)}.`);
    const langNames = languages.map((l) => LANGUAGE_NAMES[l]).filter(Boolean);
    if (langNames.length && p.chance(0.5)) sentences.push(`Support in ${listOf(langNames)}.`);
    const description = sentences.join(' ').slice(0, 1000);

    const expertise = p.distinct(
      EXPERTISE,
      p.weighted([
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 3],
        [4, 2],
        [5, 1],
        [6, 1],
      ]),
    );
    const first = p.one(FIRST);
    const last = p.one(LAST);
    const tenantId = `f1d00000-${hex(seed & 0xffff, 4)}-4000-8000-${hex(i + 1, 12)}`;
    entries.push({
      tenantId,
      name,
      programs: p.chance(0.6) ? [p.one(['cloud-essentials', 'cloud-accelerate', 'cloud-deployment'])] : [],
      authorizedServices: authorized,
      cloud: 'global',
      listing: {
        headline,
        description,
        services,
        expertise,
        countries,
        languages,
        contact: { name: `${first} ${last}`, email: `${first}.${last}@${b}.example`.toLowerCase() },
        published: true,
      },
      brand: b,
      brandWhere,
    });
  }
  return entries;
}

// --- ground truth ----------------------------------------------------------------------------------------------

const tokensOf = (s) =>
  String(s ?? '')
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * The listings' tokens as the full-text index holds them (headline, service names and ids, expertise, description),
 * and a query's matches: any query term a prefix of any token, then the country and language filters.
 * `listings` are { headline, description, services, serviceNames, expertise, countries, languages }.
 */
export function groundTruth(listings) {
  const postings = new Map();
  listings.forEach((l, idx) => {
    const text = [l.headline, ...l.serviceNames, ...l.services, ...l.expertise, l.description].join(' ');
    for (const tok of new Set(tokensOf(text))) {
      let s = postings.get(tok);
      if (!s) postings.set(tok, (s = []));
      s.push(idx);
    }
  });
  const sorted = [...postings.keys()].sort();
  const lowerBound = (t) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** Listing indexes holding a token that starts with `term`. */
  const prefixed = (term) => {
    const out = new Set();
    for (let k = lowerBound(term); k < sorted.length && sorted[k].startsWith(term); k++)
      for (const idx of postings.get(sorted[k])) out.add(idx);
    return out;
  };
  const hasTokenWithPrefix = (term) => {
    const k = lowerBound(term);
    return k < sorted.length && sorted[k].startsWith(term);
  };
  /** Indexes of the listings a parsed query (words, country, language) matches. */
  const matches = ({ words, country, language }) => {
    const hit = new Set();
    for (const w of words) for (const idx of prefixed(w)) hit.add(idx);
    return [...hit].filter(
      (idx) => (!country || listings[idx].countries.includes(country)) && (!language || listings[idx].languages.includes(language)),
    );
  };
  /** Does this listing match the query (for checking what the bot returned)? */
  const listingMatches = (idx, { words, country, language }) => {
    const l = listings[idx];
    if (country && !l.countries.includes(country)) return false;
    if (language && !l.languages.includes(language)) return false;
    const toks = tokensOf([l.headline, ...l.serviceNames, ...l.services, ...l.expertise, l.description].join(' '));
    return words.some((w) => toks.some((t) => t.startsWith(w)));
  };
  return { matches, listingMatches, hasTokenWithPrefix, tokenCount: sorted.length };
}

// --- queries ----------------------------------------------------------------------------------------------------

const COMMON_WORDS = [
  ['security', 8],
  ['microsoft', 4],
  ['365', 3],
  ['teams', 7],
  ['exchange', 6],
  ['migration', 6],
  ['migrations', 3],
  ['azure', 3],
  ['backup', 4],
  ['copilot', 5],
  ['intune', 4],
  ['compliance', 4],
  ['sharepoint', 3],
  ['voice', 3],
  ['identity', 3],
  ['entra', 2],
  ['defender', 2],
  ['email', 3],
  ['onedrive', 2],
  ['dynamics', 2],
  ['business', 2],
  ['premium', 2],
  ['training', 2],
  ['adoption', 2],
  ['managed', 2],
  ['endpoint', 1],
  ['licensing', 2],
  ['hybrid', 1],
  ['phone', 2],
];
const RARE_QUERY_WORDS = [
  'purview',
  'sentinel',
  'kiosk',
  'frontline',
  'telephony',
  'ransomware',
  'hipaa',
  'gdpr',
  'architects',
  'hospitality',
  'logistics',
  'universities',
  'nonprofits',
  'startups',
  'workshops',
  'helpdesk',
  'tenant',
  'google',
  'automation',
  'governance',
  'intranets',
  'crm',
  'recovery',
  'phishing',
  'onboarding',
  'banks',
  'schools',
  'manufacturers',
  'retailers',
  'lawyers',
];
const PREFIXES = [
  'secur',
  'migra',
  'compl',
  'sharep',
  'dyn',
  'intu',
  'cop',
  'ident',
  'tele',
  'gov',
  'back',
  'auto',
  'phish',
  'exch',
  'manag',
];
const NONSENSE = [
  'quantum',
  'knitting',
  'hovercraft',
  'saxophone',
  'mainframe',
  'cobol',
  'blockchain',
  'origami',
  'beekeeping',
  'trombone',
  'volcano',
  'sauerkraut',
  'gondola',
  'pinball',
  'yodeling',
];
/** Countries no generated listing serves (the sample partners' neither). */
const EMPTY_COUNTRIES = [
  ['TV', 'Tuvalu'],
  ['MN', 'Mongolia'],
  ['BT', 'Bhutan'],
  ['BO', 'Bolivia'],
];
const QUERY_LANGUAGES = [
  ['en', 6],
  ['de', 4],
  ['fr', 3],
  ['es', 2],
  ['nl', 1],
  ['it', 1],
  ['pt', 1],
  ['ja', 0.5],
  ['sv', 0.5],
];

/**
 * `count` queries: the `find` text, what it asks for (words without stopwords, country, language), and its kind.
 *
 * - common (35%): 1-2 frequent words (security, teams, exchange, migration, microsoft...), often with a big country,
 *   sometimes with a language: hundreds to thousands of matches.
 * - specific (20%): 2-3 words mixing rarer words (purview, kiosk, hipaa...) with a common one, and a country.
 * - prefix (10%): a truncated word (secur, migra, sharep...), sometimes with a country.
 * - unique (10%): a partner's brand word, alone or with a common word: exactly that listing first.
 * - natural (5%): phrased with stopwords ("a partner for teams voice in Germany").
 * - none (20%): words no listing has, or a country no listing serves, or a brand with a country it does not serve.
 *
 * `brands` are [{ brand, idx, brandWhere, countries }] of listings findable by their brand.
 */
export function buildQueries({ count, seed, brands, hasTokenWithPrefix }) {
  const random = prng(seed);
  const p = picker(random);
  const nonsense = NONSENSE.filter((w) => !hasTokenWithPrefix(w));
  const country = (pairs = COUNTRIES) => {
    const code = p.weighted(pairs);
    return {
      code,
      typed: p.weighted([
        [code, 4],
        [code.toLowerCase(), 1],
        [COUNTRY_NAMES[code], 3],
      ]),
    };
  };
  const language = () => {
    const code = p.weighted(QUERY_LANGUAGES);
    return { code, typed: LANGUAGE_NAMES[code] && p.chance(0.3) ? LANGUAGE_NAMES[code] : code };
  };
  const text = (words, c, l, extra = []) => {
    const parts = [...words];
    const tail = [];
    if (c) tail.push(`in ${c.typed}`);
    if (l) tail.push(`${p.chance(0.8) ? 'language' : 'lang'} ${l.typed}`);
    if (tail.length === 2 && p.chance(0.5)) tail.reverse();
    return ['find', ...extra, ...parts, ...tail].join(' ');
  };
  const out = [];
  const headlineBrands = brands.filter((b) => b.brandWhere === 'headline');
  for (let i = 0; i < count; i++) {
    const kind = p.weighted([
      ['common', 35],
      ['specific', 20],
      ['prefix', 10],
      ['unique', 10],
      ['natural', 5],
      ['none', 20],
    ]);
    let q;
    if (kind === 'common') {
      const words = p.distinct(
        COMMON_WORDS,
        p.weighted([
          [1, 3],
          [2, 2],
        ]),
      );
      const c = p.chance(0.4) ? country(COUNTRIES.slice(0, 10)) : undefined;
      const l = p.chance(0.2) ? language() : undefined;
      q = { words, country: c?.code, language: l?.code, text: text(words, c, l) };
    } else if (kind === 'specific') {
      const words = [
        ...p.distinct(
          RARE_QUERY_WORDS.map((w) => [w, 1]),
          p.int(1, 2),
        ),
        ...p.distinct(COMMON_WORDS, 1),
      ].slice(0, p.int(2, 3));
      const c = country();
      const l = p.chance(0.3) ? language() : undefined;
      q = { words, country: c.code, language: l?.code, text: text(words, c, l) };
    } else if (kind === 'prefix') {
      const words = [p.one(PREFIXES), ...(p.chance(0.3) ? p.distinct(COMMON_WORDS, 1) : [])];
      const c = p.chance(0.5) ? country() : undefined;
      q = { words, country: c?.code, text: text(words, c) };
    } else if (kind === 'unique') {
      const b = p.one(headlineBrands.length ? headlineBrands : brands);
      const words = p.chance(0.5) ? [b.brand] : [b.brand, ...p.distinct(COMMON_WORDS, p.int(1, 2))];
      const typed = words.map((w) => (w === b.brand && p.chance(0.5) ? cap(w) : w));
      q = { words, text: text(typed), expectFirst: b.idx };
    } else if (kind === 'natural') {
      const [w1, w2] = p.distinct(COMMON_WORDS, 2);
      const c = country(COUNTRIES.slice(0, 12));
      const shape = p.int(0, 2);
      const words = shape === 2 ? [w1] : [w1, w2];
      const phrase = [`a partner for ${w1} ${w2}`, `someone who can help us with ${w1} and ${w2}`, `partners with ${w1}`][shape];
      q = { words, country: c.code, text: `find ${phrase} in ${c.typed}` };
    } else {
      const shape = p.int(0, 2);
      if (shape === 0 && nonsense.length) {
        const words = p.distinct(
          nonsense.map((w) => [w, 1]),
          p.int(1, 2),
        );
        q = { words, text: text(words) };
      } else if (shape === 1) {
        const words = p.distinct(COMMON_WORDS, p.int(1, 2));
        const [code, name] = p.one(EMPTY_COUNTRIES);
        q = { words, country: code, text: `find ${words.join(' ')} in ${p.chance(0.5) ? name : code}` };
      } else {
        const b = p.one(brands);
        const notServed = COUNTRIES.map(([c]) => c).filter((c) => !b.countries.includes(c));
        const code = p.one(notServed);
        q = { words: [b.brand], country: code, text: `find ${b.brand} in ${code}` };
      }
    }
    out.push({ ...q, kind, words: [...new Set(q.words.map((w) => w.toLowerCase()))] });
  }
  return out;
}
