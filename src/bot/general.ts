import type { Attachment } from 'botbuilder';
import type { CardRenderer } from '../cards/render';
import { clip, type UserInputError } from '../errors';
import type { CommandRouter } from './commands';

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
    });
