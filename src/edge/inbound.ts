import { z } from 'zod';

/**
 * The activity fields the bot reads, checked before anything else touches them. Bot Framework channels always send
 * these; a request without them is not from a channel, and is answered with a 400 that says what was wrong rather than
 * failing somewhere deep in a turn. Everything else passes through untouched (loose objects).
 */
const Id = z.string().min(1).max(1024);
/** Fields the bot does without: JSON null is taken as absent, as botbuilder does. */
const maybe = <T extends z.ZodTypeAny>(schema: T) => schema.nullish();
const Account = z.looseObject({
  id: Id,
  name: maybe(z.string().max(1024)),
  aadObjectId: maybe(z.string().max(128)),
});

/** botbuilder strips the bot's @mention from the text by `mentioned.id` and the mention's `text`: both must be there. */
const Mention = z.looseObject({ mentioned: z.looseObject({ id: z.string() }), text: z.string().max(1024) });
const Entity = z.looseObject({ type: z.string().max(256) }).superRefine((entity, ctx) => {
  if (entity.type === 'mention' && !Mention.safeParse(entity).success)
    ctx.addIssue({ code: 'custom', message: 'a mention needs mentioned.id and text' });
});

/** The connector the bot answers through: absolute http(s), or botbuilder defaults to the public Bot Framework host. */
export const ServiceUrlSchema = z
  .string()
  .max(2048)
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !!url.hostname && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

export const InboundActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  id: maybe(z.string().max(1024)),
  channelId: z.string().min(1).max(64),
  serviceUrl: ServiceUrlSchema,
  from: Account,
  recipient: Account,
  conversation: z.looseObject({
    id: Id,
    tenantId: maybe(z.string().max(128)),
    conversationType: maybe(z.string().max(64)),
    isGroup: maybe(z.boolean()),
  }),
  name: maybe(z.string().max(256)),
  text: z.string().max(100_000).optional(),
  textFormat: maybe(z.string().max(32)),
  replyToId: maybe(z.string().max(1024)),
  entities: z.array(Entity).max(100).optional(),
  attachments: z
    .array(z.looseObject({ contentType: z.string().max(256) }))
    .max(50)
    .optional(),
  channelData: z
    .looseObject({
      tenant: z.looseObject({ id: z.string().max(128).optional() }).optional(),
      team: z.looseObject({ id: z.string().max(1024).optional(), name: z.string().max(1024).optional() }).optional(),
      channel: z.looseObject({ id: z.string().max(1024).optional(), name: z.string().max(1024).optional() }).optional(),
    })
    .optional(),
  membersAdded: z.array(Account).max(1000).optional(),
  membersRemoved: z.array(Account).max(1000).optional(),
  action: z.string().max(64).optional(),
});

export type InboundActivity = z.infer<typeof InboundActivitySchema>;

export type Inbound = { ok: true; activity: InboundActivity } | { ok: false; reason: string; invoke: boolean };

/** The first problem, in words a developer fixing their client can act on: `from.aadObjectId must be a string`. */
function describe(issue: z.core.$ZodIssue, body: unknown): string {
  const path = issue.path.length ? issue.path.join('.') : 'the body';
  if (issue.code === 'invalid_type') {
    const value = issue.path.reduce<unknown>(
      (v, key) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined),
      body,
    );
    const expected = issue.expected === 'object' || issue.expected === 'array' ? `an ${issue.expected}` : `a ${issue.expected}`;
    return value === undefined ? `${path} is missing` : `${path} must be ${expected}`;
  }
  return `${path}: ${issue.message}`;
}

export function readInbound(body: unknown): Inbound {
  const invoke = !!body && typeof body === 'object' && (body as { type?: unknown }).type === 'invoke';
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, reason: 'the body must be a JSON object (a Bot Framework activity)', invoke };
  const parsed = InboundActivitySchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: describe(parsed.error.issues[0]!, body), invoke };
  return { ok: true, activity: parsed.data };
}
