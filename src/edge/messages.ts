import type { Activity, ActivityHandler, TurnContext } from 'botbuilder';
import { AuthenticationError } from 'botframework-connector';
import type * as restify from 'restify';
import type { Logger } from '../log';
import type { TeamsAdapter } from './adapter';
import { withTurnConnectors } from './connector';
import { readInbound } from './inbound';

export interface MessagesRouteDeps {
  adapter: TeamsAdapter;
  bot: ActivityHandler;
  log: Logger;
  /** Each connector call inside a turn (a reply, a roster lookup) is abandoned after this long. */
  turnSendTimeoutMs: number;
  afterTurn: () => void;
}

/** Error bodies the edge answers with; fixed texts, so nothing about the request or the server is echoed back. */
export const refusal = (code: string, message: string) => ({ error: { code, message } });
const invokeError = (message: string) => ({
  statusCode: 400,
  type: 'application/vnd.microsoft.error',
  value: { code: 'BadRequest', message },
});
const UNAUTHORIZED = refusal('Unauthorized', 'The request is not authenticated as the Bot Framework.');
const UNAVAILABLE = refusal('Unavailable', 'The request cannot be authenticated right now; try again later.');

/**
 * What the token validator throws about the token itself (botbuilder's AuthenticationError, jsonwebtoken's errors).
 * Anything else (the key document unreachable, a network error) is the server's trouble, not a forgery: it is
 * answered 503, so the channel retries instead of the bot silently dropping real activities as "unauthorized".
 */
function isTokenRejection(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return err instanceof AuthenticationError || name === 'JsonWebTokenError' || name === 'TokenExpiredError' || name === 'NotBeforeError';
}

/** Anything shaped like a JWT is cut out of a message before it is logged. */
const withoutTokens = (text: string) => text.replace(/eyJ[\w-]*\.[\w-]*(\.[\w-]*)?/g, '[token]').slice(0, 300);

/** Bot Framework sends timestamps as strings; botbuilder's types (and its own `process`) want Dates. */
function withDates(activity: Record<string, unknown>): Activity {
  for (const key of ['timestamp', 'localTimestamp', 'expiration'] as const) {
    const raw = activity[key];
    if (typeof raw === 'string') {
      const date = new Date(raw);
      activity[key] = Number.isNaN(date.getTime()) ? undefined : date;
    }
  }
  return activity as unknown as Activity;
}

/**
 * POST /api/messages, in order: shape (400), authentication (401), then the turn. Each refusal is answered at once
 * with a short fixed reason and never reaches the bot; only a failure inside an authenticated turn is a 500.
 */
export function messagesRoute({ adapter, bot, log, turnSendTimeoutMs, afterTurn }: MessagesRouteDeps) {
  return async (req: restify.Request, res: restify.Response): Promise<void> => {
    const inbound = readInbound(req.body);
    if (!inbound.ok) {
      log.warn({ reason: inbound.reason }, 'activity refused: malformed');
      const message = `This is not a Bot Framework activity: ${inbound.reason}.`;
      res.send(400, inbound.invoke ? invokeError(message) : refusal('BadRequest', message));
      return;
    }
    const activity = withDates(inbound.activity);
    const header = req.header('authorization') ?? '';

    let authenticated;
    try {
      authenticated = await adapter.authenticate(activity, header);
    } catch (err) {
      const reason = withoutTokens(String((err as Error)?.message ?? err));
      if (isTokenRejection(err)) {
        log.warn({ reason, hasToken: !!header }, 'activity refused: authentication failed');
        res.send(401, UNAUTHORIZED);
      } else {
        log.error({ reason }, 'activity not authenticated: the token could not be checked');
        res.send(503, UNAVAILABLE);
      }
      return;
    }

    try {
      const logic = (context: TurnContext) => bot.run(context);
      const response = await adapter.runTurn(withTurnConnectors(authenticated, turnSendTimeoutMs), activity, logic);
      if (response?.body !== undefined) res.send(response.status ?? 200, response.body);
      else res.send(response?.status ?? 200);
    } catch (err) {
      log.error({ err, activityId: activity.id, type: activity.type }, 'activity processing failed');
      if (!res.headersSent) res.send(500, refusal('InternalError', 'Something went wrong on our side.'));
    } finally {
      afterTurn();
    }
  };
}
