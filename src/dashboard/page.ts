import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as restify from 'restify';
import type { Logger } from '../log';

/** Where Teams (web, desktop, mobile, and Microsoft 365 hosting Teams apps) frames a tab from. */
const TEAMS_FRAME_ANCESTORS = [
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://*.teams.microsoft.us',
  'https://*.skype.com',
  'https://*.office.com',
  'https://*.microsoft365.com',
  'https://*.cloud.microsoft',
];
/**
 * teams-js 2.x fetches Microsoft's current list of Teams origins from this file as soon as it loads (its
 * validOriginsCdnEndpoint). The policy names the file, not the CDN's host, so nothing else can be fetched from there.
 */
const TEAMS_JS_VALID_DOMAINS = 'https://res.cdn.office.net/teams-js/validDomains/json/validDomains.json';
/** A local run is framed by local test hosts too; local mode listens on loopback only. */
const LOCAL_FRAME_ANCESTORS = ['http://127.0.0.1:*', 'http://localhost:*'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** The project root (next to package.json), found from here whether running from src/ or dist/src/. */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('Cannot find package.json above ' + __dirname);
    dir = up;
  }
  return dir;
}

/**
 * The tab's files, read once at startup into a fixed table: tab/public (HTML, CSS) and the page's script bundle
 * (dist/tab/main.js). Only names in the table are served, so no request path reaches the disk.
 */
function loadAssets(log: Logger): Map<string, Asset> {
  const root = projectRoot();
  const assets = new Map<string, Asset>();
  const add = (name: string, file: string) => {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (type) assets.set(name, { body: readFileSync(file), type });
  };
  const publicDir = join(root, 'tab', 'public');
  for (const name of readdirSync(publicDir)) add(name, join(publicDir, name));
  // One bundle (the page's modules and the parts of teams-js they use): the full teams-js browser bundle alone took
  // 300-500 ms to compile in Chromium here, a third of the tab's first-paint budget.
  const script = join(root, 'dist', 'tab', 'main.js');
  if (existsSync(script)) add('main.js', script);
  else log.warn({ script }, 'the dashboard tab script is not built (npm run build); the tab page will not work');
  return assets;
}

/** Serves /tab/<file>: the partner dashboard page that Teams shows as the "Offers" personal tab. */
export function registerTabPage(
  server: restify.Server,
  { localMode, hostOrigins, log }: { localMode: boolean; hostOrigins: string[]; log: Logger },
): void {
  const assets = loadAssets(log);
  // teams-js accepts messages only from Teams' own https origins unless told others; a local test host is one.
  const origins = localMode ? hostOrigins.filter((o) => /^https?:\/\/[\w.:-]+$/.test(o)) : [];
  const index = assets.get('index.html');
  if (index) {
    assets.set('index.html', {
      ...index,
      body: Buffer.from(
        index.body
          .toString('utf8')
          .replace('name="teams-host-origins" content=""', `name="teams-host-origins" content="${origins.join(' ')}"`),
      ),
    });
  }
  const ancestors = [...TEAMS_FRAME_ANCESTORS, ...(localMode ? [...LOCAL_FRAME_ANCESTORS, ...origins] : [])].join(' ');
  const policy = [
    "default-src 'self'",
    `connect-src 'self' ${TEAMS_JS_VALID_DOMAINS}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');

  server.get('/tab', async (_req, res) => {
    res.header('Location', '/tab/index.html');
    res.send(302);
  });
  server.get('/tab/:file', async (req, res) => {
    const asset = assets.get((req.params as Record<string, string | undefined> | undefined)?.file ?? '');
    if (!asset) {
      res.send(404, { error: { code: 'notFound', message: 'No such file.' } });
      return;
    }
    res.writeHead(200, {
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      'Content-Security-Policy': policy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Scripts and styles change with a deployment and carry no version in their names: revalidate every time.
      'Cache-Control': 'no-cache',
    });
    res.end(asset.body);
  });
}
