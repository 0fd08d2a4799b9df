import type { StandardSchemaV1 } from '@standard-schema/spec';

/** The contract suite's event data. */
export interface PingData {
  key: string;
  seq: number;
  text?: string;
}

/**
 * A dependency-free Standard Schema for the suite's events, so the core's testing kit needs no validator
 * library.
 */
export const testSchema: StandardSchemaV1<PingData> = {
  '~standard': {
    version: 1,
    vendor: 'herald-testing',
    validate(value) {
      const v = value as Partial<PingData> | null;
      const issues: StandardSchemaV1.Issue[] = [];
      if (typeof v !== 'object' || v === null) return { issues: [{ message: 'expected an object' }] };
      if (typeof v.key !== 'string') issues.push({ message: 'expected a string', path: ['key'] });
      if (typeof v.seq !== 'number') issues.push({ message: 'expected a number', path: ['seq'] });
      if (v.text !== undefined && typeof v.text !== 'string')
        issues.push({ message: 'expected a string', path: ['text'] });
      return issues.length > 0 ? { issues } : { value: v as PingData };
    },
  },
};
