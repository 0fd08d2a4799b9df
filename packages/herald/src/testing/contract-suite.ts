import { after, describe } from 'node:test';
import { closeCases } from './contract-cases/close.ts';
import {
  createContractContext,
  type ContractContext,
  type ContractTarget,
} from './contract-cases/context.ts';
import { deadLetterCases } from './contract-cases/dead-letters.ts';
import { envelopeCases } from './contract-cases/envelope.ts';
import { groupCases } from './contract-cases/groups.ts';
import { longHandlerCases } from './contract-cases/long-handlers.ts';
import { orderingCases } from './contract-cases/ordering.ts';
import { reconnectCases } from './contract-cases/reconnect.ts';
import { redeliveryCases } from './contract-cases/redelivery.ts';
import { replayCases } from './contract-cases/replay.ts';
import { scheduledDeliveryCases } from './contract-cases/scheduled-delivery.ts';

export type { ContractTarget } from './contract-cases/context.ts';

/**
 * The contract's cases, one file each under `contract-cases/`, run in this order. A case file exports a
 * function that registers its `it(...)` tests against a {@link ContractContext}; add a new one here.
 */
const cases: readonly ((c: ContractContext) => void)[] = [
  envelopeCases,
  groupCases,
  orderingCases,
  redeliveryCases,
  deadLetterCases,
  replayCases,
  longHandlerCases,
  scheduledDeliveryCases,
  closeCases,
  reconnectCases,
];

/**
 * The one contract suite every transport passes. It registers `node:test` tests; what the transport does not
 * declare in `capabilities` is skipped, and what it declares is tested.
 */
export function runContractSuite(target: ContractTarget): void {
  const c = createContractContext(target);
  describe(`transport contract: ${target.name}`, () => {
    after(() => c.closeAll());
    for (const register of cases) register(c);
  });
}
