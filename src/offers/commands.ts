import { z } from 'zod';
import { UserInputError, quoted } from '../errors';
import { SHORT_ID_PATTERN } from '../ids';

export const TRIAL_EXAMPLE = 'trial admin@contoso.com m365-business-premium, teams-essentials';
export const OFFER_EXAMPLE = 'offer admin@contoso.com 25 m365-business-premium, 10 exchange-online-p1 annual';

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

export const PurchaseCommandSchema = z.object({
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
  billing: z.enum(['monthly', 'annual']),
  ...Asks,
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

/** `offer <customer-email> <qty> <service>[, <qty> <service>...] monthly|annual [with admin] [as partner of record]` */
export function parsePurchase(args: string): PurchaseCommand {
  const { body: command, ...asks } = splitAsks(args);
  const [email, rest] = splitFirst(command);
  const billingMatch = /\s*\b(monthly|annual)\s*$/i.exec(rest);
  if (!billingMatch && email.includes('@')) {
    throw new UserInputError(
      'Say how the customer pays: end the offer with monthly or annual (then with admin or as partner of record, if you want those).',
      OFFER_EXAMPLE,
    );
  }
  const body = billingMatch ? rest.slice(0, billingMatch.index) : rest;
  const lines = splitList(body).map((item) => {
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
    billing: billingMatch?.[1]?.toLowerCase(),
    ...asks,
  });
  if (!parsed.success) throw new UserInputError(firstIssue(parsed.error), OFFER_EXAMPLE);
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
