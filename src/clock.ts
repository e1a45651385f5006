/** Time is injected so rules about expiry are tested without sleeping. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

export const DAY_MS = 24 * 60 * 60 * 1000;
export const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * DAY_MS);
