import { createPublisher, createRouter, defineEvent, idempotency, memoryInbox } from '@herald/core';
import { checkIdempotent, checkOrderSafe, waitFor, type FaultyTransport } from '@herald/core/testing';
import { z } from 'zod';

const Deposited = defineEvent({
  type: 'Deposited',
  topic: 'deposits',
  key: (deposit) => deposit.account,
  schema: z.object({ account: z.string(), cents: z.number().int() }),
});

// The system under test, built on the transport the kit hands it: returns what an observer would check.
async function wallets(transport: FaultyTransport): Promise<Record<string, number>> {
  const balances: Record<string, number> = {};
  let handled = 0;
  const router = createRouter({
    transport,
    group: 'wallets',
    source: '/bank/wallets',
    middleware: [idempotency({ inbox: memoryInbox() })], // remove it and checkIdempotent fails
  }).on(Deposited, (event) => {
    balances[event.data.account] = (balances[event.data.account] ?? 0) + event.data.cents;
    handled++;
  });
  await router.start();
  const teller = createPublisher({ transport: transport.inner, source: '/bank/teller' });
  for (const [account, cents] of [
    ['ada', 500],
    ['bob', 300],
    ['ada', 200],
  ] as const) {
    await teller.publish(Deposited, { account, cents });
  }
  await waitFor(() => handled >= 3);
  await transport.quiet(); // late duplicates arrive after the first delivery: wait for them too
  await router.close();
  await transport.close();
  return balances;
}

export async function checkWallets(): Promise<void> {
  // Duplicates, crashes between commit and ack, failed acks: 5 runs with seeds 1..5 against a fault-free run.
  await checkIdempotent(wallets, { seed: 1 });
  // Keys overtaking each other (never within a key): the balances must not depend on it.
  await checkOrderSafe(wallets, { seed: 1 });
}
