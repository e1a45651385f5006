import type { Attachment, ConversationReference } from 'botbuilder';
import { distance } from 'fastest-levenshtein';
import type { Partner } from '../directory/partners';
import { UserInputError, quoted, type Correction } from '../errors';
import type { Person } from '../offers/types';

export type Audience = 'partner' | 'customer' | 'anyone';

/** Who typed a command, as the router resolved them. */
export interface CommandContext {
  actor: Person & { upn?: string };
  /** Set when the actor's tenant is a registered partner. */
  partner: Partner | null;
  conversationId: string;
  /** Set when the command was typed in a team channel: where a new post in that channel goes. */
  channel?: ChannelContext;
}

export interface ChannelContext {
  /** The channel's own conversation id (a reply thread's `;messageid=` removed). */
  conversationId: string;
  name?: string;
  teamName?: string;
  tenantId: string;
  reference: Partial<ConversationReference>;
}

export interface Reply {
  text?: string;
  attachments?: Attachment[];
  /**
   * Cards sent after the reply, one message each, whose place is remembered (`sent` gets the activity id) so they can
   * be updated later like the original card: `offers` posts copies of cards that change when the offer does.
   */
  tracked?: TrackedCard[];
}

/** A card sent as its own message whose place is remembered (`sent` gets the activity id), to be updated later. */
export interface TrackedCard {
  attachment: Attachment;
  sent(activityId: string, conversationId: string): Promise<void>;
}

export interface CommandSpec {
  /** The first word, lower case. */
  name: string;
  audience: Audience;
  usage: string;
  description: string;
  /** Parses the text after the command word and runs it; throws UserInputError for anything a person can fix. */
  run(args: string, ctx: CommandContext): Promise<Reply>;
}

export interface CommandRouter {
  register(spec: CommandSpec): void;
  dispatch(text: string, ctx: CommandContext): Promise<Reply>;
  /** Commands this person may use, for help. */
  available(ctx: Pick<CommandContext, 'partner'>): CommandSpec[];
}

/** The longest command anyone needs (an offer with many lines is a few hundred characters); longer is a paste. */
export const COMMAND_MAX = 2_000;

/**
 * Written as to a person ("Hi, can you send a trial to ..."), not a mistyped command: four words or more, and what
 * follows the first word is not a command's argument (an address, a number, an id).
 */
function isSentence(text: string): boolean {
  const words = text.split(/\s+/);
  return words.length >= 4 && !/[@\d]/.test(words[1] ?? '');
}

/** A friendly answer to a sentence: the commands whose names come closest to any word in it, best first. */
function closestCommands(text: string, specs: CommandSpec[]): Reply {
  const words = text
    .toLowerCase()
    .split(/[^a-z-]+/)
    .filter(Boolean);
  const ranked = specs
    .filter((s) => s.name !== 'help')
    .map((s) => ({ s, d: Math.min(...words.map((w) => distance(w, s.name))) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3);
  return {
    text: [
      'I work with short commands rather than sentences. The closest to what you wrote:',
      '',
      ...ranked.map(({ s }) => `- ${s.usage}: ${s.description}`),
      '',
      'Type help to see all of them.',
    ].join('\n'),
  };
}

/** A corrected command, if it is still a command's length. */
const fitting = (command: string): string | undefined => (command.length <= COMMAND_MAX ? command.trim() : undefined);

/**
 * The whole command with a part's correction made, when the typed words occur exactly once among the arguments (twice,
 * and which one was meant is a guess).
 */
function correctedCommand(name: string, args: string, { typed, instead }: Correction): string | undefined {
  const words = typed.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  const pattern = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+');
  const found = [...args.matchAll(new RegExp(`(?<=^|[\\s,])${pattern}(?=$|[\\s,])`, 'gi'))];
  if (found.length !== 1) return undefined;
  const at = found[0]!;
  return fitting(`${name} ${args.slice(0, at.index)}${instead}${args.slice(at.index + at[0].length)}`);
}

/** Runs the command; an error that knows a part's one certain fix leaves with the whole corrected command. */
async function run(spec: CommandSpec, args: string, ctx: CommandContext): Promise<Reply> {
  try {
    return await spec.run(args, ctx);
  } catch (err) {
    if (err instanceof UserInputError && err.correction && err.corrected === undefined) {
      err.corrected = correctedCommand(spec.name, args, err.correction);
    }
    throw err;
  }
}

const allowed = (spec: CommandSpec, partner: Partner | null) => spec.audience === 'anyone' || (spec.audience === 'partner') === !!partner;

export function createCommandRouter(): CommandRouter {
  const specs = new Map<string, CommandSpec>();
  const available = ({ partner }: Pick<CommandContext, 'partner'>) => [...specs.values()].filter((s) => allowed(s, partner));
  return {
    register(spec) {
      if (specs.has(spec.name)) throw new Error(`Command "${spec.name}" is registered twice`);
      specs.set(spec.name, spec);
    },
    available,
    async dispatch(text, ctx) {
      const trimmed = text.trim();
      if (trimmed.length > COMMAND_MAX) {
        throw new UserInputError(
          `That message is ${trimmed.length.toLocaleString('en-US')} characters long; a command is at most ${COMMAND_MAX.toLocaleString('en-US')}. Type the command on its own.`,
          'help',
          'Too long for a command',
        );
      }
      const word = (trimmed.split(/\s+/, 1)[0] ?? '').toLowerCase();
      const args = trimmed.slice(word.length).trim();
      const spec = specs.get(word);
      if (spec && allowed(spec, ctx.partner)) return run(spec, args, ctx);
      if (spec?.audience === 'partner') {
        throw new UserInputError(
          `${spec.name} is for partner organisations registered with this bot, and your organisation is not one. If it should be, ask the people who run this bot to register your tenant.`,
          undefined,
          'Only for partners',
        );
      }
      if (spec?.audience === 'customer') {
        throw new UserInputError(
          `${spec.name} is for customers answering offers. As a partner, try status or customers.`,
          'status',
          'Only for customers',
        );
      }
      const mine = available(ctx);
      if (isSentence(trimmed)) return closestCommands(trimmed, mine);
      const close = mine
        .map((s) => ({ s, d: distance(word, s.name) }))
        .filter(({ d }) => d <= Math.max(2, Math.floor(word.length / 2)))
        .sort((a, b) => a.d - b.d);
      const suggestion = close[0]?.s;
      const err = new UserInputError(
        word
          ? `I don't know ${quoted(word, 30)}.${suggestion ? ` Did you mean ${suggestion.name}?` : ''}`
          : 'Type a command, for example help.',
        suggestion?.usage ?? 'help',
        "I didn't understand that",
      );
      // Only one command near the word is a certain fix; two or more, and the person chooses.
      if (suggestion && close.length === 1) err.corrected = fitting(`${suggestion.name} ${args}`);
      throw err;
    },
  };
}
