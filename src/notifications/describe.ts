import type { MessageRef } from './types';

/** What each outbox message is, in a partner's words, for the failed-notifications card. */
const LABELS: Record<string, (args: Record<string, string>) => string> = {
  'offer.card': (a) => `The card for ${a.offerId}`,
  'offer.notice': (a) => `Your message about ${a.offerId} (${a.event})`,
  'offer.channel': (a) => `The channel notification for ${a.offerId}`,
  'relationship.card': (a) => `The request card for ${a.relationshipId}`,
  'relationship.notice': (a) => `A message about ${a.relationshipId} (${a.event}) to the ${a.audience}`,
  'relationship.channel': (a) => `The channel notification for ${a.relationshipId}`,
};

export const describeMessage = (ref: MessageRef): string => LABELS[ref.kind]?.(ref.args) ?? `A message (${ref.kind})`;
