import type { Store } from '../../../src/store/types';
import { T0 } from '../support/fixtures';
import { channelsContract } from './channels';
import { contractContext, type StoreHarness } from './context';
import { conversationsContract } from './conversations';
import { fulfilmentsConcurrent, fulfilmentsContract } from './fulfilments';
import { leadsConcurrent, leadsContract } from './leads';
import { listingsContract } from './listings';
import { offersConcurrent, offersContract } from './offers';
import { outboxConcurrent, outboxContract } from './outbox';
import { partnersContract } from './partners';
import { pipelineContract } from './pipeline';
import { relationshipsConcurrent, relationshipsContract } from './relationships';

export type { StoreHarness } from './context';

/**
 * The store contract every adapter passes: one file of cases per capability, each declared under `one handle` (a
 * store of its own per test, on the test's clock) and, where races matter, under `concurrent handles`.
 */
export function describeStoreContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    const ctx = contractContext(harness, () => store);
    const { clock } = ctx;

    if (harness.setup) beforeAll(() => harness.setup!(), 180_000);
    beforeEach(() => {
      clock.now = new Date(T0);
    });
    afterEach(() => harness.cleanup(), 60_000);
    if (harness.dispose) afterAll(() => harness.dispose!(), 60_000);

    describe('one handle', () => {
      beforeEach(async () => {
        store = await harness.open(() => clock.now);
      });

      describe('basics', () => {
        it('reports its kind and answers ping', async () => {
          expect(['sqlite', 'mongo']).toContain(store.kind);
          await expect(store.ping()).resolves.toBeUndefined();
        });
      });

      describe('partners', () => {
        partnersContract(ctx);
        channelsContract(ctx);
      });
      conversationsContract(ctx);
      offersContract(ctx);
      fulfilmentsContract(ctx);
      relationshipsContract(ctx);
      listingsContract(ctx);
      leadsContract(ctx);
      pipelineContract(ctx);
      outboxContract(ctx);
    });

    describe('concurrent handles', () => {
      offersConcurrent(ctx);
      fulfilmentsConcurrent(ctx);
      outboxConcurrent(ctx);
      relationshipsConcurrent(ctx);
      leadsConcurrent(ctx);
    });
  });
}
