import { z } from 'zod';
import { UserInputError, quoted } from '../errors';
import { SHORT_ID_PATTERN } from '../ids';
import { BILLINGS_OF, TERM_ADJECTIVE, readBilling, readTerm } from './terms';

export const TRIAL_EXAMPLE = 'trial admin@contoso.com m365-business-premium, teams-essentials';
export const OFFER_EXAMPLE = 'offer admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual';
/** The example for a mistake in the term or billing: the long form. */
export const TERMS_EXAMPLE = 'offer admin@contoso.com 25 m365-business-premium term 1 year billing monthly';

const ApproverEmail = z
  .string()
  .trim()
  .min(1, "Tell me who it is for: the customer approver's email address comes first.")
  .transform((s) => s.toLowerCase())
  .pipe(z.email({ error: (issue) => `${quoted(String(issue.input))} is not an email address. Put the customer approver's email first.` }));

/** Requests that travel on the offer's card, each answered separately by the customer. */
const Asks = {
  withAdmin: z.boolean(),
  asPartnerOfRecord: z.boolean(),
};

export const TrialCommandSchema = z.object({
  kind: z.literal('trial'),
  approverEmail: ApproverEmail,
  ...Asks,
  services: z
    .array(z.string().trim().min(1).max(120, 'That service name is too long.'))
    .min(1, 'Name at least one service after the email address, separated by commas.')
    .max(10, 'A trial invitation can hold at most 10 services.'),
});
export type TrialCommand = z.infer<typeof TrialCommandSchema>;

/** What a partner typed after `term`: one of the terms Microsoft sells, however it is spelt. */
const TermSchema = z
  .string()
  .trim()
  .min(1, 'Say the term after "term": monthly (1 month), annual (1 year) or 3 years.')
  .transform((typed, ctx) => {
    const term = readTerm(typed);
    if (!term) {
      ctx.addIssue({
        code: 'custom',
        message: `${quoted(typed)} is not a term Microsoft sells. Say term monthly (1 month), term annual (1 year) or term 3 years.`,
      });
      return z.NEVER;
    }
    return term;
  });

/** What a partner typed after `billing`. */
const BillingSchema = z
  .string()
  .trim()
  .min(1, 'Say how often the customer pays after "billing": monthly or annual.')
  .transform((typed, ctx) => {
    const billing = readBilling(typed);
    if (!billing) {
      ctx.addIssue({ code: 'custom', message: `${quoted(typed)} is not a billing frequency. Say billing monthly or billing annual.` });
      return z.NEVER;
    }
    return billing;
  });

export const PurchaseCommandSchema = z
  .object({
    kind: z.literal('purchase'),
    approverEmail: ApproverEmail,
    lines: z
      .array(
        z.object({
          quantity: z.number().int().min(1, 'Quantities start at 1.').max(1_000_000, 'That quantity is too large.'),
          service: z.string().trim().min(1).max(120, 'That service name is too long.'),
        }),
      )
      .min(1, 'Name at least one service with its quantity, like "25 m365-business-premium".')
      .max(20, 'A purchase offer can hold at most 20 lines.'),
    /** As typed; the short forms `monthly` and `annual` name the term and the billing at once. */
    term: TermSchema.optional(),
    billing: BillingSchema.optional(),
    ...Asks,
  })
  // The term decides which billing frequencies are possible: a month's term is paid monthly, so it needs no billing.
  .transform((cmd, ctx) => {
    const { term, billing } = cmd;
    if (!term) {
      ctx.addIssue({
        code: 'custom',
        path: ['term'],
        message: `Say the term too: term monthly (1 month), term annual (1 year) or term 3 years, then billing ${billing ?? 'monthly'}.`,
      });
      return z.NEVER;
    }
    const allowed = BILLINGS_OF[term];
    const chosen = billing ?? (allowed.length === 1 ? allowed[0] : undefined);
    if (!chosen) {
      ctx.addIssue({
        code: 'custom',
        path: ['billing'],
        message: `A ${TERM_ADJECTIVE[term]} term can be billed monthly or annually: add billing monthly or billing annual.`,
      });
      return z.NEVER;
    }
    if (!allowed.includes(chosen)) {
      ctx.addIssue({
        code: 'custom',
        path: ['billing'],
        message:
          'A 1-month term cannot be billed annually: it is billed monthly (write just monthly). To bill annually, choose a longer term: term 1 year billing annual, or term 3 years billing annual.',
      });
      return z.NEVER;
    }
    return { ...cmd, term, billing: chosen };
  });
export type PurchaseCommand = z.infer<typeof PurchaseCommandSchema>;

function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'That command is not complete.';
}

const splitFirst = (s: string): [string, string] => {
  const t = s.trim();
  const i = t.search(/\s/);
  return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i).trim()];
};

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Takes `with admin` and `as partner of record` off the end, in either order. */
function splitAsks(args: string): { body: string; withAdmin: boolean; asPartnerOfRecord: boolean } {
  let body = args.trim();
  let withAdmin = false;
  let asPartnerOfRecord = false;
  for (;;) {
    const admin = /\s+with\s+admin$/i.exec(body);
    const por = /\s+as\s+(the\s+)?partner\s+of\s+record$/i.exec(body);
    const m = admin ?? por;
    if (!m) break;
    if (admin) withAdmin = true;
    else asPartnerOfRecord = true;
    body = body.slice(0, m.index).trim();
  }
  return { body, withAdmin, asPartnerOfRecord };
}

/** `trial <customer-email> <service>[, <service>...] [with admin] [as partner of record]` */
export function parseTrial(args: string): TrialCommand {
  const { body, ...asks } = splitAsks(args);
  const [email, rest] = splitFirst(body);
  const parsed = TrialCommandSchema.safeParse({ kind: 'trial', approverEmail: email, services: splitList(rest), ...asks });
  if (!parsed.success) throw new UserInputError(firstIssue(parsed.error), TRIAL_EXAMPLE);
  return parsed.data;
}

/** The words that start the term and the billing at the end of an offer. */
const TERMS_KEYWORD = /^(term|billing)$/i;

/**
 * Takes the term and billing off the end of an offer: `term <term> [billing <billing>]` (either order), or the short
 * form `monthly` or `annual`, which names both. They follow the last line, so only the text after the last comma is
 * searched: a word in a service name earlier on is never read as one.
 */
function splitTerms(rest: string): { body: string; term?: string; billing?: string; found: boolean } {
  const lastComma = rest.lastIndexOf(',');
  const head = rest.slice(0, lastComma + 1);
  const words = rest.slice(lastComma + 1).split(/(\s+)/);
  const start = words.findIndex((w) => TERMS_KEYWORD.test(w));
  if (start >= 0) {
    const clause: Record<string, string[]> = {};
    let key = '';
    for (const w of words.slice(start)) {
      if (!w.trim()) continue;
      if (TERMS_KEYWORD.test(w)) {
        key = w.toLowerCase();
        if (clause[key]) throw new UserInputError(`Say the ${key} once: "${key}" comes twice at the end of the offer.`, TERMS_EXAMPLE);
        clause[key] = [];
      } else clause[key]!.push(w);
    }
    return {
      body: head + words.slice(0, start).join(''),
      ...(clause.term ? { term: clause.term.join(' ') } : {}),
      ...(clause.billing ? { billing: clause.billing.join(' ') } : {}),
      found: true,
    };
  }
  const short = /\s*\b(monthly|annual|annually)\s*$/i.exec(rest);
  if (!short) return { body: rest, found: false };
  // `monthly`: a 1-month term billed monthly; `annual`: a 1-year term billed annually. Both read the same word.
  const word = short[1]!.toLowerCase() === 'monthly' ? 'monthly' : 'annual';
  return { body: rest.slice(0, short.index), term: word, billing: word, found: true };
}

/**
 * `offer <customer-email> <qty> <service>[, <qty> <service>...] monthly|annual|term <term> billing <billing>
 * [with admin] [as partner of record]`
 */
export function parsePurchase(args: string): PurchaseCommand {
  const { body: command, ...asks } = splitAsks(args);
  const [email, rest] = splitFirst(command);
  const terms = splitTerms(rest);
  if (!terms.found && email.includes('@')) {
    throw new UserInputError(
      'Say the term and how the customer pays: end the offer with monthly (a 1-month term, billed monthly), annual (a 1-year term, billed annually), or a term and billing like term 1 year billing monthly (then with admin or as partner of record, if you want those).',
      TERMS_EXAMPLE,
    );
  }
  const lines = splitList(terms.body).map((item) => {
    const m = /^(\S+)\s+(.+)$/.exec(item);
    if (!m || !/^\d+$/.test(m[1]!)) {
      throw new UserInputError(
        `Each line starts with a quantity, then the service: ${quoted(item)} does not. Write it like "25 m365-business-premium".`,
        OFFER_EXAMPLE,
      );
    }
    return { quantity: Number(m[1]), service: m[2]! };
  });
  const parsed = PurchaseCommandSchema.safeParse({
    kind: 'purchase',
    approverEmail: email,
    lines,
    term: terms.term,
    billing: terms.billing,
    ...asks,
  });
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const aboutTerms = issue?.path[0] === 'term' || issue?.path[0] === 'billing';
    throw new UserInputError(firstIssue(parsed.error), aboutTerms ? TERMS_EXAMPLE : OFFER_EXAMPLE);
  }
  return parsed.data;
}

export const OFFER_ID_PATTERN = SHORT_ID_PATTERN;

/** `withdraw <id>` and `status <id>`: ids are typed by people, so accept lower case. */
export function parseOfferId(raw: string, example: string): string {
  const id = raw.trim().toUpperCase();
  if (!OFFER_ID_PATTERN.test(id)) {
    throw new UserInputError(
      raw.trim()
        ? `${quoted(raw)} is not an offer id. Offer ids look like T-4K7P2Q (trials) or P-8M3N5R (purchase offers).`
        : 'Which offer? Give its id.',
      example,
    );
  }
  return id;
}
