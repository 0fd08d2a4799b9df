import { join } from 'node:path';
import type { TrialContext, TrialResources } from '../system.ts';
import { removeDatabase } from './sqlite-raw-setup.ts';

/** A fresh database file per trial; Herald creates its schema and topics itself. */
export function heraldSetup(context: TrialContext): Promise<TrialResources> {
  const path = join(context.dir, `${context.name}.db`);
  return Promise.resolve({ resources: { path }, teardown: () => removeDatabase(path) });
}
