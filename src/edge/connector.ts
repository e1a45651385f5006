import type { AuthenticateRequestResult, ConnectorClient, ConnectorFactory } from 'botframework-connector';

interface PipelinePolicy {
  name: string;
  sendRequest(request: { timeout: number }, next: (request: { timeout: number }) => Promise<unknown>): Promise<unknown>;
}
interface Pipeline {
  removePolicy(o: { phase?: string; name?: string }): unknown;
  addPolicy(policy: PipelinePolicy, options?: { phase?: string }): void;
}

const pipelineOf = (client: ConnectorClient) => (client as unknown as { client?: { pipeline?: Pipeline } }).client?.pipeline;

/**
 * One request per call: the connector client's own pipeline resends 429s and 5xx up to three times within a call,
 * with backoff. Those resends bypass whoever decides about retries (the deliverer, or Teams, which redelivers a turn
 * it got no answer for), so callers see every failure at once.
 */
export function withoutRetries(client: ConnectorClient): ConnectorClient {
  pipelineOf(client)?.removePolicy({ phase: 'Retry' });
  return client;
}

/**
 * For the replies inside one turn: no resends, each request abandoned after `timeoutMs`, and once the connector has
 * failed to answer (timeout, refused connection) the turn's later calls fail at once instead of waiting again. Teams
 * gives up on a turn after about 15 seconds and redelivers it, so a turn that cannot reply must end well before.
 */
export function forTurn(client: ConnectorClient, timeoutMs: number): ConnectorClient {
  const pipeline = pipelineOf(withoutRetries(client));
  let unreachable: ConnectorUnreachableError | undefined;
  pipeline?.addPolicy({
    name: 'turnDeadline',
    async sendRequest(request, next) {
      if (unreachable) throw unreachable;
      request.timeout = request.timeout > 0 ? Math.min(request.timeout, timeoutMs) : timeoutMs;
      try {
        return await next(request);
      } catch (err) {
        // An HTTP answer (4xx, 5xx) means the connector is there; anything else means it is not, for this turn.
        if (err && typeof err === 'object' && 'statusCode' in err && (err as { statusCode?: number }).statusCode) throw err;
        unreachable = new ConnectorUnreachableError(timeoutMs, err);
        throw unreachable;
      }
    },
  });
  return client;
}

/** The turn's connector did not answer (refused, reset, or silent past the deadline): nothing more can be sent. */
export class ConnectorUnreachableError extends Error {
  constructor(timeoutMs: number, cause: unknown) {
    const code = (cause as { code?: string })?.code;
    const timedOut = !code || (cause as { name?: string })?.name === 'AbortError';
    super(timedOut ? `the connector did not answer within ${timeoutMs} ms` : `the connector could not be reached (${code})`, { cause });
    this.name = 'ConnectorUnreachableError';
  }
}

/** True for an error that means the turn's connector is gone, wherever in the turn it surfaced. */
export const isConnectorUnreachable = (err: unknown): boolean =>
  err instanceof ConnectorUnreachableError || (err as { cause?: unknown })?.cause instanceof ConnectorUnreachableError;

/** The authenticated request's connector factory, making turn clients (see forTurn). */
export function withTurnConnectors(result: AuthenticateRequestResult, timeoutMs: number): AuthenticateRequestResult {
  const factory = result.connectorFactory;
  if (!factory) return result;
  const turnFactory: ConnectorFactory = {
    create: async (serviceUrl: string, audience?: string) => forTurn(await factory.create(serviceUrl, audience), timeoutMs),
  };
  return { ...result, connectorFactory: turnFactory };
}
