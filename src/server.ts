import * as restify from 'restify';
import type { ActivityHandler, CloudAdapter } from 'botbuilder';
import type { Logger } from './log';
import type { Store } from './store/types';

/** Bodies beyond this are refused before anything parses them: no Teams activity comes close. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ServerDeps {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  store: Store;
  log: Logger;
  /** Runs after every handled activity: queued notifications can go out now rather than at the next poll. */
  afterTurn(): void;
  /** The dashboard tab's page and API. */
  routes?: (server: restify.Server) => void;
}

/** HTTP only: routes, body limits, health. Knows nothing of Teams beyond handing activities to the adapter. */
export function createServer({ adapter, bot, store, log, afterTurn, routes }: ServerDeps): restify.Server {
  const server = restify.createServer({ name: 'partner-offers', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false }));

  server.post('/api/messages', async (req, res) => {
    try {
      await adapter.process(req, res, (context) => bot.run(context));
    } catch (err) {
      log.error({ err }, 'activity processing failed');
      if (!res.headersSent) res.send(500, { error: 'Internal error' });
    } finally {
      afterTurn();
    }
  });

  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok' });
  });

  server.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      const outbox = await store.outbox.stats();
      const oldestPendingAgeSeconds = outbox.oldestPendingAt ? Math.max(0, Math.round((Date.now() - Date.parse(outbox.oldestPendingAt)) / 1000)) : 0;
      res.send(200, { status: 'ready', store: store.kind, outbox: { pending: outbox.pending, failed: outbox.failed, oldestPendingAgeSeconds } });
    } catch (err) {
      log.error({ err }, 'readiness check failed');
      res.send(503, { status: 'unavailable' });
    }
  });

  routes?.(server);

  // 5xx details stay in the log; callers get a generic body.
  server.on('restifyError', (req: restify.Request, res: restify.Response, err: { statusCode?: number; message?: string }, done: () => void) => {
    if ((err.statusCode ?? 500) >= 500) {
      log.error({ err, url: req.url }, 'request failed');
      res.send(500, { error: 'Internal error' });
      return;
    }
    done();
  });

  return server;
}
