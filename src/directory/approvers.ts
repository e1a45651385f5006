import type { Partner } from './partners';
import { isSovereign } from './sovereign';
import type { ConversationRecord } from './types';
import { UserInputError } from '../errors';
import type { Person } from '../offers/types';
import type { ConversationsStore } from './store';

/** The person a personal chat belongs to, as offers and requests address them. */
export const personFromConversation = (c: ConversationRecord): Person | undefined =>
  c.user && {
    aadObjectId: c.user.aadObjectId,
    userId: c.user.userId,
    name: c.user.name,
    tenantId: c.tenantId,
    email: c.user.email ?? c.user.upn,
    serviceUrl: c.reference.serviceUrl ?? '',
  };

/** The addresses things waiting for this chat's user were sent to: their email and UPN, lower-cased, each once. */
export const addressesOf = (c: ConversationRecord): string[] => [
  ...new Set([c.user?.email, c.user?.upn].filter((e): e is string => !!e).map((e) => e.toLowerCase())),
];

/**
 * Offers each thing that waited for this chat's user to install the app (listed by each of their addresses) to
 * `deliver`, with the user as its approver; returns the user and how many `deliver` delivered. What the user's own
 * organisation issued is skipped. Partner features are not available in 21Vianet: what waited for such a user stays
 * undelivered until it expires.
 */
export async function deliverWaiting<T extends { partnerTenantId: string }>(
  conversation: ConversationRecord,
  sovereignTenants: readonly string[],
  waiting: (email: string) => Promise<T[]>,
  deliver: (item: T, approver: Person) => Promise<boolean>,
): Promise<{ approver?: Person; delivered: number }> {
  const approver = personFromConversation(conversation);
  if (!approver || isSovereign(approver.tenantId, sovereignTenants)) return { delivered: 0 };
  let delivered = 0;
  for (const email of addressesOf(conversation)) {
    for (const item of await waiting(email)) {
      if (item.partnerTenantId !== approver.tenantId && (await deliver(item, approver))) delivered++;
    }
  }
  return { approver, delivered };
}

/**
 * The customer approver behind an email, if they have installed the app; refuses addresses in the partner's own
 * organisation and customers in the 21Vianet cloud, where partner features are not available.
 */
export async function findApprover(
  store: { conversations: ConversationsStore },
  email: string,
  partner: Partner,
  sovereignTenants: readonly string[],
  example: string,
): Promise<{ person: Person; conversationId: string } | undefined> {
  const conversation = await store.conversations.findPersonalByEmail(email);
  const person = conversation && personFromConversation(conversation);
  if (!conversation || !person) return undefined;
  if (conversation.tenantId === partner.tenantId) {
    throw new UserInputError(
      `${email} is in your own organisation. Offers and requests go to an approver in the customer's organisation.`,
      example,
      'Not a customer',
    );
  }
  if (isSovereign(conversation.tenantId, sovereignTenants)) {
    throw new UserInputError(
      `${email} is in Office 365 operated by 21Vianet, where partner features are not available, so nothing was sent.`,
      undefined,
      'Not available in this cloud',
    );
  }
  return { person, conversationId: conversation.id };
}
