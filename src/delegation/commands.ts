import { z } from 'zod';
import { UserInputError, quoted } from '../errors';
import { RELATIONSHIP_ID_PATTERN } from '../ids';
import { MAX_DURATION_DAYS, MIN_DURATION_DAYS } from './rules';

export const DELEGATE_EXAMPLE = 'delegate admin@contoso.com roles Exchange Administrator, User Administrator days 365 auto-extend';
export const DELEGATE_REVOKE_EXAMPLE = 'delegate revoke D-4K7P2Q';

export const DelegateCommandSchema = z.object({
  kind: z.literal('request'),
  approverEmail: z
    .string()
    .trim()
    .min(1, "Tell me who it is for: the customer approver's email address comes first.")
    .transform((s) => s.toLowerCase())
    .pipe(
      z.email({ error: (issue) => `${quoted(String(issue.input))} is not an email address. Put the customer approver's email first.` }),
    ),
  /** Absent: the partner's default roles (partners file `defaultAdminRoles`), else the least-privileged set. */
  roles: z
    .array(z.string().trim().min(1).max(80, 'That role name is too long.'))
    .min(1, 'Name at least one role after "roles", separated by commas.')
    .max(20, 'A request can name at most 20 roles.')
    .optional(),
  days: z
    .number({ error: 'The duration is a number of days, like "days 365".' })
    .int('The duration is a whole number of days.')
    .min(MIN_DURATION_DAYS, `The duration is ${MIN_DURATION_DAYS} to ${MAX_DURATION_DAYS} days.`)
    .max(MAX_DURATION_DAYS, `The duration is ${MIN_DURATION_DAYS} to ${MAX_DURATION_DAYS} days (two years at most).`)
    .optional(),
  autoExtend: z.boolean(),
});
export type DelegateCommand = z.infer<typeof DelegateCommandSchema>;

export type DelegateRevokeCommand = { kind: 'revoke'; id: string };

const firstIssue = (error: z.ZodError): string => error.issues[0]?.message ?? 'That command is not complete.';

/** Relationship ids are typed by people, so lower case is accepted. */
export function parseRelationshipId(raw: string, example: string): string {
  const id = raw.trim().toUpperCase();
  if (!RELATIONSHIP_ID_PATTERN.test(id)) {
    throw new UserInputError(
      raw.trim()
        ? `${quoted(raw)} is not a delegated-admin id. Those look like D-4K7P2Q (or R-4K7P2Q for partner of record).`
        : 'Which relationship? Give its id, like D-4K7P2Q.',
      example,
    );
  }
  return id;
}

/**
 * `delegate <email> [roles <role>[, <role>...]] [days <n>] [auto-extend]` or `delegate revoke <id>`.
 * The options may come in any order; role names contain spaces, so `roles` takes everything up to the next option.
 */
export function parseDelegate(args: string): DelegateCommand | DelegateRevokeCommand {
  const text = args.trim();
  const revoke = /^revoke\b\s*(.*)$/i.exec(text);
  if (revoke) return { kind: 'revoke', id: parseRelationshipId(revoke[1]!, DELEGATE_REVOKE_EXAMPLE) };

  const first = text.split(/\s+/, 1)[0] ?? '';
  let rest = ` ${text.slice(first.length).trim()} `;

  const autoExtend = /\sauto-?\s?extend(ed)?\s/i.test(rest);
  rest = rest.replace(/\sauto-?\s?extend(ed)?(?=\s)/gi, ' ');

  let days: number | undefined;
  const daysMatch = /\sdays?\s+(\S+)(?=\s)/i.exec(rest);
  if (daysMatch) {
    days = /^\d+$/.test(daysMatch[1]!) ? Number(daysMatch[1]) : NaN;
    if (Number.isNaN(days))
      throw new UserInputError(`${quoted(daysMatch[1]!, 20)} is not a number of days. Write it like "days 365".`, DELEGATE_EXAMPLE);
    rest = rest.slice(0, daysMatch.index) + ' ' + rest.slice(daysMatch.index + daysMatch[0].length);
  }

  let roles: string[] | undefined;
  const rolesMatch = /\sroles?\s+(.*)$/is.exec(rest);
  if (rolesMatch) {
    roles = rolesMatch[1]!
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    rest = rest.slice(0, rolesMatch.index);
  } else if (/\sroles?\s*$/i.test(rest)) {
    throw new UserInputError('Name at least one role after "roles", separated by commas.', DELEGATE_EXAMPLE);
  }

  const leftover = rest.trim();
  if (leftover) {
    throw new UserInputError(
      `I don't understand ${quoted(leftover)}. After the email come, in any order: roles ‹role›, ‹role›; days ‹1-${MAX_DURATION_DAYS}›; auto-extend.`,
      DELEGATE_EXAMPLE,
    );
  }
  const parsed = DelegateCommandSchema.safeParse({ kind: 'request', approverEmail: first, roles, days, autoExtend });
  if (!parsed.success) throw new UserInputError(firstIssue(parsed.error), DELEGATE_EXAMPLE);
  return parsed.data;
}
