import * as restify from 'restify';
import type { ActivityHandler } from 'botbuilder';
import type { TeamsAdapter } from './edge/adapter';
import type { Foreground } from './edge/foreground';
import { messagesRoute, refusal } from './edge/messages';
import type { Logger } from './log';
import type { Store } from './store/types';

/** Bodies beyond this are refused before anything parses them: no Teams activity comes close. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Each connector call inside a turn gives up after this long: Teams redelivers a turn it has no answer to in ~15 s. */
export const TURN_SEND_TIMEOUT_MS = 4_000;

export interface ServerDeps {
  adapter: TeamsAdapter;
  bot: ActivityHandler;
  store: Store;
  log: Logger;
  /** Runs after every handled activity: queued notifications can go out now rather than at the next poll. */
  afterTurn: () => void;
  /** The dashboard tab's page and API. */
  routes?: (server: restify.Server) => void;
  turnSendTimeoutMs?: number;
  /** Counts every request until its answer is sent, for background work to give way to (see foreground.ts). */
  foreground?: Foreground;
}

/**
 * Compressed bodies are refused before anything reads them: Bot Framework never sends them, restify's inflater has no
 * error handler (a body that is not gzip ends the process), and the size limit would count compressed bytes.
 */
function refuseEncodedBodies(req: restify.Request, res: restify.Response, next: restify.Next): void {
  const encoding = (req.header('content-encoding') ?? '').trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    res.send(
      415,
      refusal(
        'UnsupportedEncoding',
        'Compressed request bodies are not accepted: send the activity as plain JSON, without Content-Encoding.',
      ),
    );
    next(false);
    return;
  }
  next();
}

/** Activities are JSON; anything else (forms, multipart uploads) is refused rather than parsed or written to disk. */
function requireJson(req: restify.Request, res: restify.Response, next: restify.Next): void {
  if (req.getContentType() !== 'application/json') {
    res.send(415, refusal('UnsupportedMediaType', 'Send the activity as application/json.'));
    next(false);
    return;
  }
  next();
}

/** HTTP only: routes, body limits, health. Knows nothing of Teams beyond handing activities to the adapter. */
export function createServer({
  adapter,
  bot,
  store,
  log,
  afterTurn,
  routes,
  turnSendTimeoutMs = TURN_SEND_TIMEOUT_MS,
  foreground,
}: ServerDeps): restify.Server {
  const server = restify.createServer({ name: 'partner-offers', handleUncaughtExceptions: false });
  if (foreground) {
    server.pre((_req: restify.Request, res: restify.Response, next: restify.Next) => {
      const leave = foreground.enter();
      // 'close' also covers a client that went away before its answer was sent.
      res.once('finish', leave);
      res.once('close', leave);
      next();
    });
  }
  server.use(refuseEncodedBodies);
  // jsonBodyParser hands its options to the body reader, which enforces maxBodySize; the typings omit it.
  server.use(restify.plugins.jsonBodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false } as restify.plugins.JsonBodyParserOptions));

  server.post('/api/messages', requireJson, messagesRoute({ adapter, bot, log, turnSendTimeoutMs, afterTurn }));

  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok' });
  });

  server.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      const outbox = await store.outbox.stats();
      const oldestPendingAgeSeconds = outbox.oldestPendingAt
        ? Math.max(0, Math.round((Date.now() - Date.parse(outbox.oldestPendingAt)) / 1000))
        : 0;
      res.send(200, {
        status: 'ready',
        store: store.kind,
        outbox: { pending: outbox.pending, failed: outbox.failed, oldestPendingAgeSeconds },
      });
    } catch (err) {
      log.error({ err }, 'readiness check failed');
      res.send(503, { status: 'unavailable' });
    }
  });

  routes?.(server);

  // 5xx details stay in the log; callers get a generic body.
  server.on(
    'restifyError',
    (req: restify.Request, res: restify.Response, err: { statusCode?: number; message?: string }, done: () => void) => {
      if ((err.statusCode ?? 500) >= 500) {
        log.error({ err, url: req.url }, 'request failed');
        res.send(500, { error: 'Internal error' });
        return;
      }
      done();
    },
  );

  return server;
}
