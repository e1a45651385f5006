import type { Activity, AdaptiveCardInvokeResponse } from 'botbuilder';
import type { z } from 'zod';
import type { Person } from '../offers/types';
import type { Reply } from './commands';

/** Who clicked, and on what message. */
export interface ActionContext {
  actor: Person & { upn?: string };
  conversationId: string;
  activityId: string;
  /** The message that holds the card. */
  replyToId?: string;
  /** Teams refreshes cards on its own ("automatic"); such calls must never send or update anything. */
  trigger: 'manual' | 'automatic';
  /** Posts more messages into the conversation during this action (e.g. the next page of results). */
  post(activity: Partial<Activity>): Promise<void>;
  /**
   * What typing `text` in this conversation would answer, the same person's rights checked as for typed text: a
   * refusal comes back as its error card, not thrown.
   */
  command(text: string): Promise<Reply>;
  /** Sends a command's reply here as typing would: its message, then its tracked cards. */
  postReply(reply: Reply): Promise<void>;
}

export interface VerbHandler<S extends z.ZodTypeAny = z.ZodTypeAny> {
  /** Validates the card's `data` (untrusted) before anything else runs. */
  schema: S;
  /**
   * Read-only, so Teams' automatic refresh may run it. Every other verb changes something (records an answer, sends
   * messages) and runs only when a person pressed the button (`trigger: manual`).
   */
  refresh?: true;
  handle(data: z.infer<S>, ctx: ActionContext): Promise<AdaptiveCardInvokeResponse>;
}

export interface VerbTable {
  register<S extends z.ZodTypeAny>(verb: string, handler: VerbHandler<S>): void;
  get(verb: string): VerbHandler | undefined;
  verbs(): string[];
}

/** One handler per `<capability>.<action>` verb; registering one twice is a startup bug, so it throws. */
export function createVerbTable(): VerbTable {
  const handlers = new Map<string, VerbHandler>();
  return {
    register(verb, handler) {
      if (!/^[a-z]+\.[a-z][a-zA-Z]*$/.test(verb)) throw new Error(`Verb "${verb}" is not <capability>.<action>`);
      if (handlers.has(verb)) throw new Error(`Verb "${verb}" is registered twice`);
      handlers.set(verb, handler);
    },
    get: (verb) => handlers.get(verb),
    verbs: () => [...handlers.keys()],
  };
}

export const cardResponse = (card: Record<string, unknown>): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.card.adaptive',
  value: card,
});

export const messageResponse = (message: string): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.activity.message',
  value: message as unknown as Record<string, unknown>,
});

export const errorResponse = (statusCode: number, code: string, message: string): AdaptiveCardInvokeResponse => ({
  statusCode,
  type: 'application/vnd.microsoft.error',
  value: { code, message },
});
