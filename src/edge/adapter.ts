import { CloudAdapter, type InvokeResponse, type TurnContext } from 'botbuilder';
import type { AuthenticateRequestResult } from 'botframework-connector';
import type { Activity } from 'botbuilder';

/**
 * CloudAdapter with authentication and turn processing as two steps, so the HTTP edge can answer each failure for
 * what it is: `process()` does both and answers a forged token with a 500 and the validator's message.
 */
export class TeamsAdapter extends CloudAdapter {
  /** Throws on any authentication failure (bad token, wrong audience, unreachable key metadata). */
  authenticate(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
  }

  /** Runs the turn for an already authenticated request; resolves with the invoke response, if any. */
  runTurn(
    authenticated: AuthenticateRequestResult,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(authenticated, activity, logic);
  }
}
