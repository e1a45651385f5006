/** One certain fix of part of a command: the words as typed there, and what they surely meant. */
export interface Correction {
  typed: string;
  instead: string;
}

/**
 * Something the person can fix: the message is shown to them as is, with an example of what works.
 * Anything else that goes wrong is logged and answered with a generic apology.
 */
export class UserInputError extends Error {
  /**
   * The whole command with its one certain fix made, which the error card offers to send. Where the fix is known
   * only for a part (`correction`), the command router fills this in: it alone has the whole command.
   */
  corrected?: string;

  constructor(
    message: string,
    readonly example?: string,
    readonly title = "That didn't work",
    /** Set only when there is exactly one candidate: two or more are a question for the person, not a fix. */
    readonly correction?: Correction,
  ) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** Text cut to `max` characters, an ellipsis marking the cut. */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Input echoed back in an error, quoted and cut short: a 90,000-character paste must not come back whole. */
export const quoted = (input: string, max = 60): string => `"${clip(input.trim(), max)}"`;
