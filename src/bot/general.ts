import type { Attachment } from 'botbuilder';
import { z } from 'zod';
import type { CardRenderer } from '../cards/render';
import { clip, type UserInputError } from '../errors';
import { COMMAND_MAX, type CommandRouter } from './commands';
import { cardResponse, messageResponse, type VerbTable } from './verbs';

/** Commands every capability shares: help (built from what is registered) and support. */
export function registerGeneral(router: CommandRouter, cards: CardRenderer): void {
  router.register({
    name: 'help',
    audience: 'anyone',
    usage: 'help',
    description: 'What I can do for you.',
    run: async (_args, ctx) => ({
      attachments: [
        cards.attachment('help', {
          title: ctx.partner ? `Partner Offers for ${ctx.partner.name}` : 'Partner Offers',
          intro: ctx.partner
            ? 'Send customers trial invitations, purchase offers and delegated-administration requests; I record every answer and tell you the outcome. Type a command:'
            : 'Your Microsoft cloud partners send you trial invitations, purchase offers and delegated-administration requests here; answer them with the card buttons. Type a command:',
          commands: router.available(ctx).map((c) => ({ usage: c.usage, description: c.description })),
        }),
      ],
    }),
  });

  router.register({
    name: 'support',
    audience: 'anyone',
    usage: 'support',
    description: 'How to reach Microsoft support directly, whoever your partner is.',
    run: async () => ({ attachments: [cards.attachment('support', {})] }),
  });
}

export const errorCard =
  (cards: CardRenderer) =>
  (error: UserInputError): Attachment =>
    // Messages quote what was typed; the cut keeps a runaway quote from making the card too big to send.
    cards.attachment('error', {
      title: clip(error.title, 100),
      message: clip(error.message, 1_500),
      example: clip(error.example ?? '', 300),
      // Never cut: the card shows exactly what its button sends.
      corrected: error.corrected ?? '',
    });

/**
 * The error card's Send it corrected: the command it showed, run as if the person had typed it. The command is checked
 * here as typed text is (a command's length), and everything else by the command router, as for typed text.
 */
export function registerSendCorrected(verbs: VerbTable): void {
  verbs.register('command.send', {
    schema: z.object({ command: z.string().trim().min(1).max(COMMAND_MAX) }),
    handle: async ({ command }, ctx) => {
      const reply = await ctx.command(command);
      const cards = reply.attachments ?? [];
      // A single card (the confirmation, or what is still wrong) takes the error card's place, button and all.
      if (cards.length === 1 && !reply.text) return cardResponse(cards[0]!.content as Record<string, unknown>);
      await ctx.postReply(reply);
      return messageResponse(`Sent: ${command}`);
    },
  });
}
