import type { Activity } from 'botbuilder';
import type { MessageRef } from './types';

/** Delivery cannot succeed however often it is tried (the subject is gone, the message kind unknown). */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

/** `items`: on a coalesced entry, the args of each message it stands for (see `MessageRef.items`). */
export type MessageBuilder = (args: Record<string, string>, items?: Array<Record<string, string>>) => Promise<Partial<Activity>>;

export interface MessageRegistry {
  /** Each capability registers the messages it puts in the outbox; one builder per kind. */
  register(kind: string, builder: MessageBuilder): void;
  build(ref: MessageRef): Promise<Partial<Activity>>;
}

export function createMessageRegistry(): MessageRegistry {
  const builders = new Map<string, MessageBuilder>();
  return {
    register(kind, builder) {
      if (builders.has(kind)) throw new Error(`Message kind "${kind}" is registered twice`);
      builders.set(kind, builder);
    },
    build(ref) {
      const builder = builders.get(ref.kind);
      if (!builder) throw new PermanentDeliveryError(`no message builder for "${ref.kind}"`);
      return builder(ref.args, ref.items);
    },
  };
}
