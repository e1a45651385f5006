/**
 * Something the person can fix: the message is shown to them as is, with an example of what works.
 * Anything else that goes wrong is logged and answered with a generic apology.
 */
export class UserInputError extends Error {
  constructor(
    message: string,
    readonly example?: string,
    readonly title = "That didn't work",
  ) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** Input echoed back in an error, quoted and cut short: a 90,000-character paste must not come back whole. */
export function quoted(input: string, max = 60): string {
  const s = input.trim();
  return `"${s.length > max ? `${s.slice(0, max - 1)}…` : s}"`;
}
