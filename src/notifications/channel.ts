import { z } from 'zod';
import type { CommandContext, CommandRouter } from '../bot/commands';
import { cardResponse, type VerbTable } from '../bot/verbs';
import type { FailedNotificationsCardData } from '../cards/data';
import type { CardRenderer } from '../cards/render';
import { formatDateTime, literal, possessive } from '../cards/format';
import type { Clock } from '../clock';
import type { Partner } from '../directory/partners';
import { UserInputError, quoted } from '../errors';
import type { Logger } from '../log';
import type { ConversationsStore, PartnersStore } from '../directory/store';
import type { ChannelsStore, OutboxStore } from './store';
import type { MessageRef, NewOutboxEntry, OutboxEntry } from './types';

/** The stores this uses: nothing else of the database is in reach. */
export type ChannelStores = { channels: ChannelsStore; conversations: ConversationsStore; outbox: OutboxStore; partners: PartnersStore };

/** How many failed notifications `status` shows (and Retry requeues) at once. */
export const FAILED_SHOWN = 10;

/**
 * The partner's channel notification for an outcome, if the partner has chosen a channel: written to the outbox in
 * the same transaction as the decision it reports, like every other notification. With `coalesceMax`, notices of the
 * same kind queued while an earlier one to the channel still waits join it (up to that many), delivered as one digest.
 */
export async function channelNotice(
  store: { channels: ChannelsStore },
  partnerTenantId: string,
  message: MessageRef,
  subject: NonNullable<NewOutboxEntry['subject']>,
  coalesceMax?: number,
): Promise<NewOutboxEntry[]> {
  const channel = await store.channels.get(partnerTenantId);
  if (!channel) return [];
  return [
    {
      target: { kind: 'conversation', conversationId: channel.conversationId },
      action: { kind: 'send', message },
      subject,
      partnerTenantId,
      ...(coalesceMax ? { coalesce: { key: `${message.kind}:${channel.conversationId}`, max: coalesceMax } } : {}),
    },
  ];
}

const RetrySchema = z.object({
  /** The failed entries the card showed, so Retry requeues exactly those. */
  ids: z
    .string()
    .max(FAILED_SHOWN * 40)
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.uuid('not a notification id')).min(1).max(FAILED_SHOWN)),
});

/** What a failed entry was, in a partner's words; capabilities name their message kinds. */
export type DescribeMessage = (ref: MessageRef) => string;

export interface NotificationCommandsDeps {
  store: ChannelStores;
  cards: CardRenderer;
  clock: Clock;
  log: Logger;
  describe: DescribeMessage;
}

/** `notify here` / `notify off` in a team channel, and the failed-notifications card with its Retry. */
export function registerNotificationCommands(router: CommandRouter, verbs: VerbTable, deps: NotificationCommandsDeps) {
  const { store, cards, clock, log } = deps;

  async function here(ctx: CommandContext, partner: Partner) {
    const channel = ctx.channel;
    if (!channel) {
      throw new UserInputError(
        'notify here works in a team channel: add me to the team, then @mention me in the channel that should get notifications, with notify here.',
        '@Partner Offers notify here',
        'Only in a team channel',
      );
    }
    if (channel.tenantId !== partner.tenantId) {
      throw new UserInputError(`This channel is not in ${possessive(partner.name)} organisation.`, undefined, 'Not your channel');
    }
    const now = clock().toISOString();
    // The channel itself (not the thread the command was typed in) is what the sender addresses.
    await store.conversations.upsert({
      id: channel.conversationId,
      tenantId: channel.tenantId,
      kind: 'channel',
      reference: channel.reference,
      active: true,
      updatedAt: now,
    });
    await store.channels.set(partner.tenantId, {
      conversationId: channel.conversationId,
      tenantId: channel.tenantId,
      serviceUrl: channel.reference.serviceUrl ?? '',
      channelName: channel.name,
      teamName: channel.teamName,
      setBy: { aadObjectId: ctx.actor.aadObjectId, name: ctx.actor.name },
      setAt: now,
    });
    log.info({ tenantId: partner.tenantId, conversationId: channel.conversationId }, 'notification channel set');
    return {
      text: `Done: from now on this channel hears when a customer accepts a trial or purchase offer, approves a delegated-admin request or chooses ${partner.name} as its partner of record. The person who sent it still gets a 1:1 message for every answer. Type notify off to stop.`,
    };
  }

  router.register({
    name: 'notify',
    audience: 'partner',
    usage: 'notify here · notify off (in a team channel)',
    description: 'Send acceptance notifications to this team channel, or stop them.',
    run: async (args, ctx) => {
      const partner = ctx.partner!;
      const sub = args.trim().toLowerCase();
      if (sub === 'here') return here(ctx, partner);
      if (sub === 'off') {
        const had = await store.channels.get(partner.tenantId);
        await store.channels.set(partner.tenantId, null);
        log.info({ tenantId: partner.tenantId }, 'notification channel removed');
        return {
          text: had
            ? `Done: acceptance notifications no longer go to ${had.channelName ? `the ${had.channelName} channel` : 'a channel'}. The person who sent an offer or request still hears every answer 1:1.`
            : 'No notification channel was set, so nothing changed.',
        };
      }
      if (sub === '') {
        const channel = await store.channels.get(partner.tenantId);
        return {
          text: channel
            ? `Acceptance notifications go to ${channel.channelName ? `the ${channel.channelName} channel` : 'a channel'}${channel.teamName ? ` of ${channel.teamName}` : ''}, set by ${channel.setBy.name} on ${formatDateTime(channel.setAt)}.`
            : 'No notification channel is set. @mention me in a team channel with notify here to choose one.',
        };
      }
      throw new UserInputError(
        `${quoted(args)} is not something notify does. Use notify here or notify off, in a team channel.`,
        'notify here',
      );
    },
  });

  /** The failed-notifications card for `status`, or nothing when every notification went out. */
  async function failedCard(partner: Partner) {
    const failed = await store.outbox.failedFor(partner.tenantId, FAILED_SHOWN);
    if (failed.length === 0) return undefined;
    return cards.attachment('failed-notifications', await failedData(failed));
  }

  async function failedData(
    failed: OutboxEntry[],
    o: { headline?: string; detail?: string; style?: string } = {},
  ): Promise<FailedNotificationsCardData> {
    return {
      headline:
        o.headline ??
        `${failed.length}${failed.length === FAILED_SHOWN ? '+' : ''} notification${failed.length === 1 ? '' : 's'} could not be delivered`,
      detail:
        o.detail ??
        'Teams refused them, usually because the person removed the app or the chat was deleted. Ask them to add Partner Offers again (I send you the install link when you send a new offer), then press Retry.',
      style: o.style ?? 'warning',
      rows: await Promise.all(
        failed.map(async (e) => ({
          what: `${deps.describe(e.action.message)} → ${await recipient(e)} (${formatDateTime(e.createdAt)})`,
          reason: reasonOf(e.lastError),
        })),
      ),
      ids: failed.map((e) => e.id).join(','),
    };
  }

  async function recipient(e: OutboxEntry): Promise<string> {
    if (e.target.kind === 'user') return 'a 1:1 chat';
    const c = await store.conversations.get(e.target.conversationId);
    if (!c) return 'a chat I no longer know';
    if (c.kind === 'personal') return c.user?.name ? `${literal(c.user.name)}${c.user.email ? ` (${c.user.email})` : ''}` : 'a 1:1 chat';
    return c.kind === 'channel' ? 'the notification channel' : 'a group chat';
  }

  verbs.register('notify.retry', {
    schema: RetrySchema,
    handle: async (data, ctx) => {
      const partner = await store.partners.get(ctx.actor.tenantId);
      if (!partner) throw new UserInputError('Only partner staff can retry notifications.');
      const requeued = await store.outbox.retryFailed(partner.tenantId, data.ids, clock().toISOString());
      log.info({ tenantId: partner.tenantId, requeued }, 'failed notifications requeued');
      return cardResponse(
        cards.render('failed-notifications', {
          headline: requeued ? `Retrying ${requeued} notification${requeued === 1 ? '' : 's'}` : 'Nothing to retry',
          detail: requeued
            ? 'They are on their way. Any that Teams refuses again will show up in status once more.'
            : 'These were already retried or delivered.',
          style: 'good',
          rows: [],
          ids: '',
        }),
      );
    },
  });

  return { failedCard };
}

/** The reason Teams gave, in words; the raw code stays in the log. */
function reasonOf(lastError: string | undefined): string {
  const e = lastError ?? '';
  if (/^403\b/.test(e) || /BotNotInConversationRoster|ConversationBlockedByUser/.test(e))
    return 'Teams says the bot is no longer in that chat (the app was removed, or the chat was blocked).';
  if (/^404\b/.test(e) || /ConversationNotFound|conversation (unknown|inactive)/.test(e))
    return 'Teams no longer knows that chat (the app was removed or the chat deleted).';
  if (/no longer exists/.test(e)) return 'What it was about no longer exists.';
  return `Teams kept refusing it: ${e.slice(0, 120) || 'no reason given'}.`;
}
