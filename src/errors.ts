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

/** Text cut to `max` characters, an ellipsis marking the cut. */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Input echoed back in an error, quoted and cut short: a 90,000-character paste must not come back whole. */
export const quoted = (input: string, max = 60): string => `"${clip(input.trim(), max)}"`;
