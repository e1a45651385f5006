import {
  TeamsActivityHandler,
  TeamsInfo,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type Attachment,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import { z } from 'zod';
import type { Partner } from '../directory/partners';
import type { ConversationRecord } from '../directory/types';
import { UserInputError } from '../errors';
import type { Logger } from '../log';
import type { ConversationsStore, PartnersStore } from '../directory/store';
import { channelOf, commandText, tenantOf } from './activity';
import type { ConversationCapture } from './capture';
import type { CommandContext, CommandRouter, Reply } from './commands';
import { registerSendCorrected } from './general';
import { errorResponse, messageResponse, type ActionContext, type VerbTable } from './verbs';
import { sovereignRefusal } from '../directory/sovereign';
import { isConnectorUnreachable } from '../edge/connector';

/** The stores this uses: nothing else of the database is in reach. */
export type BotStores = { conversations: ConversationsStore; partners: PartnersStore };

/** The invoke envelope Teams sends for Action.Execute; `data` is checked again by the verb's own schema. */
const InvokeValueSchema = z.object({
  action: z.object({
    type: z.literal('Action.Execute'),
    verb: z.string().min(1).max(64),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
  trigger: z.enum(['manual', 'automatic']).optional(),
});

/** Action.Submit fallback: older clients post the action's data as a message `value` carrying the verb. */
const SubmitValueSchema = z.looseObject({ verb: z.string().min(1).max(64) });

export interface BotDeps {
  router: CommandRouter;
  verbs: VerbTable;
  capture: ConversationCapture;
  store: BotStores;
  log: Logger;
  errorCard(error: UserInputError): Attachment;
  /** Office 365 operated by 21Vianet: partner features are refused there. */
  isSovereign(tenantId: string, partner: Partner | null): boolean;
  /** What someone who installs the app reads first: a partner's staff and a customer need different words. */
  welcomeText(partner: Partner | null): string;
}

/** The conversation record captured for this turn, so handlers don't read it again. */
const CONVERSATION = Symbol('conversation');

const BAD_ACTION = errorResponse(400, 'BadRequest', 'This card action is not one I understand. Try the latest card, or type help.');

const APOLOGY =
  'Sorry, something went wrong on our side. Please try again in a minute; if it keeps happening, tell the people who run this bot';

/** Teams in, domain out: turns activities into commands and card actions, and their results into replies. */
export class PartnerOffersBot extends TeamsActivityHandler {
  constructor(private readonly deps: BotDeps) {
    super();
    registerSendCorrected(deps.verbs);

    this.onTurn(async (context, next) => {
      context.turnState.set(CONVERSATION, await deps.capture.capture(context));
      await next();
    });

    this.onMessage(async (context, next) => {
      const submitted = SubmitValueSchema.safeParse(context.activity.value);
      if (context.activity.value && submitted.success) await this.handleSubmit(context, submitted.data.verb, submitted.data);
      else await this.handleCommand(context);
      await next();
    });

    this.onInstallationUpdateAdd(async (context, next) => {
      if (context.activity.conversation.conversationType === 'personal') {
        await context.sendActivity(deps.welcomeText(await this.partnerOf(tenantOf(context.activity))));
      }
      await next();
    });
  }

  private actor(context: TurnContext): ActionContext['actor'] {
    const a = context.activity;
    const record = context.turnState.get<ConversationRecord | undefined>(CONVERSATION);
    const user = record?.user?.aadObjectId === a.from.aadObjectId ? record?.user : undefined;
    return {
      aadObjectId: a.from.aadObjectId ?? '',
      userId: a.from.id,
      name: a.from.name ?? '',
      tenantId: tenantOf(a),
      serviceUrl: a.serviceUrl,
      email: user?.email ?? user?.upn,
      upn: user?.upn ?? user?.email,
    };
  }

  private async partnerOf(tenantId: string): Promise<Partner | null> {
    return tenantId ? this.deps.store.partners.get(tenantId) : null;
  }

  /**
   * The actor with their email and UPN, which partner rules need (admin agents): a personal chat's record has them;
   * in a channel or group chat they come from the user's stored 1:1 chat, else from the roster.
   */
  private async actorWithEmail(context: TurnContext): Promise<ActionContext['actor']> {
    const actor = this.actor(context);
    if (actor.email || !actor.aadObjectId) return actor;
    const personal = await this.deps.store.conversations.findPersonal(actor.tenantId, actor.aadObjectId);
    if (personal?.user?.email || personal?.user?.upn) {
      return { ...actor, email: personal.user.email ?? personal.user.upn, upn: personal.user.upn ?? personal.user.email };
    }
    try {
      const member = await TeamsInfo.getMember(context, context.activity.from.id);
      const email = member.email?.toLowerCase();
      const upn = member.userPrincipalName?.toLowerCase();
      return { ...actor, email: email ?? upn, upn: upn ?? email };
    } catch {
      return actor;
    }
  }

  private async handleCommand(context: TurnContext): Promise<void> {
    await this.send(context, await this.reply(context, commandText(context)));
  }

  /** A reply in this turn: its message, then each tracked card as its own message, whose place is then remembered. */
  private async send(context: TurnContext, reply: Reply): Promise<void> {
    if (reply.text || reply.attachments?.length) {
      await context.sendActivity({ type: 'message', text: reply.text, attachments: reply.attachments });
    }
    for (const t of reply.tracked ?? []) {
      const sent = await context.sendActivity({ type: 'message', attachments: [t.attachment] });
      if (sent?.id) await t.sent(sent.id, context.activity.conversation.id);
    }
  }

  /** What `text`, typed by this turn's person in this conversation, answers: a card action's command gets the same. */
  private async reply(context: TurnContext, text: string): Promise<Reply> {
    const ctx: CommandContext = {
      actor: await this.actorWithEmail(context),
      partner: await this.partnerOf(tenantOf(context.activity)),
      conversationId: context.activity.conversation.id,
      channel: channelOf(context.activity),
    };
    try {
      // help and support stay available: they explain, and support is how such a tenant reaches Microsoft.
      if (this.deps.isSovereign(ctx.actor.tenantId, ctx.partner) && !/^\s*(help|support)\b/i.test(text)) throw sovereignRefusal();
      return await this.deps.router.dispatch(text, ctx);
    } catch (err) {
      return this.failure(context, err);
    }
  }

  private failure(context: TurnContext, err: unknown): Reply {
    // Nothing can reach the chat: the turn ends, and the adapter's error handler says so once.
    if (isConnectorUnreachable(err)) throw err;
    if (err instanceof UserInputError) return { attachments: [this.deps.errorCard(err)] };
    this.deps.log.error({ err, activityId: context.activity.id }, 'command failed');
    return { text: `${APOLOGY} (reference ${context.activity.id ?? 'unknown'}).` };
  }

  /**
   * Card actions are the only invokes this app declares. Every other name (message extensions, file consent, task
   * modules...) is answered "not implemented" here, without handing a value nobody checked to botbuilder's handlers,
   * which read into it. A malformed card action is answered here too: botbuilder reads `value.action.type` unchecked.
   */
  protected override async onInvokeActivity(context: TurnContext): Promise<InvokeResponse> {
    const name = context.activity.name;
    if (name !== 'adaptiveCard/action') {
      return {
        status: 501,
        body: errorResponse(
          501,
          'NotImplemented',
          `This app does not handle ${typeof name === 'string' ? name.slice(0, 64) : 'unnamed'} invokes.`,
        ),
      };
    }
    if (!InvokeValueSchema.safeParse(context.activity.value).success) return { status: 400, body: BAD_ACTION };
    return super.onInvokeActivity(context);
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const parsed = InvokeValueSchema.safeParse(value);
    if (!parsed.success) return BAD_ACTION;
    // botbuilder rebuilds `value` without `trigger`; the activity's own value has it. Absent means a click.
    const trigger = InvokeValueSchema.shape.trigger.safeParse((context.activity.value as { trigger?: unknown } | undefined)?.trigger);
    return this.runVerb(
      context,
      parsed.data.action.verb,
      parsed.data.action.data ?? {},
      trigger.success ? (trigger.data ?? 'manual') : 'automatic',
    );
  }

  private async runVerb(
    context: TurnContext,
    verb: string,
    data: unknown,
    trigger: ActionContext['trigger'],
  ): Promise<AdaptiveCardInvokeResponse> {
    const handler = this.deps.verbs.get(verb);
    if (!handler)
      return errorResponse(
        400,
        'UnknownVerb',
        `This card's button (${verb.slice(0, 64)}) is not one I know. It may come from an older version of this app.`,
      );
    if (trigger === 'automatic' && !handler.refresh) {
      return errorResponse(400, 'BadRequest', 'A card refresh cannot answer or change anything: press the button to do that.');
    }
    const tenantId = tenantOf(context.activity);
    if (this.deps.isSovereign(tenantId, await this.partnerOf(tenantId))) return messageResponse(sovereignRefusal().message);
    const input = handler.schema.safeParse(data);
    if (!input.success) {
      const issue = input.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      return errorResponse(400, 'BadRequest', `This card's data is not valid: ${where}${issue?.message ?? 'unreadable'}.`);
    }
    try {
      return await handler.handle(input.data, {
        actor: this.actor(context),
        conversationId: context.activity.conversation.id,
        activityId: context.activity.id ?? '',
        replyToId: context.activity.replyToId,
        trigger,
        post: async (activity) => void (await context.sendActivity(activity)),
        command: (text) => this.reply(context, text),
        postReply: (reply) => this.send(context, reply),
      });
    } catch (err) {
      if (err instanceof UserInputError) return errorResponse(400, 'BadRequest', err.message);
      if (isConnectorUnreachable(err))
        this.deps.log.warn(
          { verb, activityId: context.activity.id, reason: (err as Error).message },
          'card action could not post: the connector did not answer',
        );
      else this.deps.log.error({ err, verb, activityId: context.activity.id }, 'card action failed');
      return errorResponse(500, 'InternalError', `${APOLOGY} (reference ${context.activity.id ?? 'unknown'}).`);
    }
  }

  /** Older clients: run the same verb, then update the card in place or answer in text. */
  private async handleSubmit(context: TurnContext, verb: string, data: Record<string, unknown>): Promise<void> {
    const result = await this.runVerb(context, verb, data, 'manual');
    const value = result.value as Record<string, unknown> | string | undefined;
    if (result.type === 'application/vnd.microsoft.card.adaptive' && context.activity.replyToId) {
      await context.updateActivity({
        id: context.activity.replyToId,
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: value }],
      });
    } else if (typeof value === 'string') {
      await context.sendActivity(value);
    } else if (value && typeof value === 'object' && 'message' in value) {
      await context.sendActivity(String(value.message));
    }
  }
}
