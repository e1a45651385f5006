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
