import { newShortId, SHORT_ID_PATTERN, withFreshIds } from '../src/ids';

describe('withFreshIds: a new offer or request whose short id is taken gets a fresh one', () => {
  const clash = (message: string) => {
    let calls = 0;
    const ids: string[] = [];
    const create = async () => {
      calls++;
      const id = newShortId('T');
      ids.push(id);
      if (calls <= 2) throw new Error(message);
      return id;
    };
    return { create, ids, calls: () => calls };
  };

  it.each([
    ['SQLite', 'UNIQUE constraint failed: offers.id'],
    ['SQLite, an attached request', 'UNIQUE constraint failed: relationships.id'],
    ['MongoDB', 'E11000 duplicate key error collection: po.offers index: _id_ dup key: { _id: "T-ABC234" }'],
  ])('tries again with a new id after a clash on the id (%s)', async (_db, message) => {
    const c = clash(message);
    const id = await withFreshIds(c.create);
    expect(c.calls()).toBe(3);
    expect(id).toBe(c.ids[2]);
    expect(id).toMatch(SHORT_ID_PATTERN);
  });

  it('gives up after three more tries, with the clash as the error', async () => {
    const create = jest.fn(async () => Promise.reject(new Error('UNIQUE constraint failed: offers.id')));
    await expect(withFreshIds(create)).rejects.toThrow('offers.id');
    expect(create).toHaveBeenCalledTimes(4);
  });

  it('does not retry any other failure', async () => {
    const create = jest.fn(async () => Promise.reject(new Error('UNIQUE constraint failed: offers.pending_key')));
    await expect(withFreshIds(create)).rejects.toThrow('pending_key');
    expect(create).toHaveBeenCalledTimes(1);
  });
});
