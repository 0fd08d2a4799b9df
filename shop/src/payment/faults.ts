import { configError } from '@herald/core';

/** The faults the payment service can simulate, by name, with what each does (for `GET /admin/faults`). */
export const PAYMENT_FAULTS = {
  'provider-down':
    'Charging throws PaymentProviderUnavailable: OrderPlaced is retried, then dead-lettered in payment-service',
} as const;

/** The name of a simulated payment fault. */
export type PaymentFaultName = keyof typeof PAYMENT_FAULTS;

/** The error a charge throws while the `provider-down` fault is on: stable name, code and message. */
export class PaymentProviderUnavailable extends Error {
  readonly code = 'SHOP_PAYMENT_PROVIDER_DOWN';

  constructor() {
    super('The payment provider is unavailable (simulated fault "provider-down")');
    this.name = 'PaymentProviderUnavailable';
  }
}

const isFault = (name: string): name is PaymentFaultName => Object.hasOwn(PAYMENT_FAULTS, name);

/**
 * The payment service's fault switches, for demonstrations and the console's browser test: all off unless
 * `PAYMENT_FAULTS` names some at start-up (comma-separated), switched at run time by `POST /admin/faults`. Held in
 * the process: a restarted service starts again from `PAYMENT_FAULTS`.
 */
export class PaymentFaults {
  readonly #on = new Set<PaymentFaultName>();

  /** Reads `PAYMENT_FAULTS`; throws `HERALD_CONFIG` naming it for an unknown fault. */
  static fromEnv(env: NodeJS.ProcessEnv): PaymentFaults {
    const faults = new PaymentFaults();
    for (const name of (env.PAYMENT_FAULTS ?? '').split(',').map((n) => n.trim())) {
      if (name === '') continue;
      if (!isFault(name))
        throw configError(
          'PAYMENT_FAULTS',
          `a comma-separated list of ${Object.keys(PAYMENT_FAULTS).join(', ')}`,
          name,
        );
      faults.#on.add(name);
    }
    return faults;
  }

  isOn(name: PaymentFaultName): boolean {
    return this.#on.has(name);
  }

  /** Switches a fault; returns false for a name that is not a fault (nothing changes). */
  set(name: string, enabled: boolean): boolean {
    if (!isFault(name)) return false;
    if (enabled) this.#on.add(name);
    else this.#on.delete(name);
    return true;
  }

  /** Every fault with its state, as `GET /admin/faults` lists them. */
  list(): { name: PaymentFaultName; description: string; enabled: boolean }[] {
    return (Object.keys(PAYMENT_FAULTS) as PaymentFaultName[]).map((name) => ({
      name,
      description: PAYMENT_FAULTS[name],
      enabled: this.#on.has(name),
    }));
  }
}
