import { UserInputError } from '../../src/errors';

/** The UserInputError `fn` throws; anything else (or nothing) fails the test. */
export const errorOf = (fn: () => unknown): UserInputError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserInputError) return err;
    throw err;
  }
  throw new Error('expected a UserInputError');
};
