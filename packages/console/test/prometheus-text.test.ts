import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../src/prometheus-text.ts';

const EXPOSITION = `# HELP herald_events_processed_total Events handled
# TYPE herald_events_processed_total counter
herald_events_processed_total{topic="orders",type="OrderPlaced",group="payment-service",service="payment-service"} 12
herald_events_processed_total{topic="orders",type="OrderCancelled",group="payment-service",service="payment-service"} 3
herald_consumer_lag{group="payment-service",topic="orders",partition="0"} 4 1700000000000
weird_metric{label="a \\"quoted\\" value, with comma",other="x\\\\y"} +Inf
broken_line{label=unquoted} 1
no_labels 2.5
`;

describe('parsePrometheusText', () => {
  it('reads samples with their labels, escapes and timestamps, and skips what it cannot read', () => {
    const samples = parsePrometheusText(EXPOSITION);
    assert.deepEqual(
      samples.map((s) => [s.name, s.value]),
      [
        ['herald_events_processed_total', 12],
        ['herald_events_processed_total', 3],
        ['herald_consumer_lag', 4],
        ['weird_metric', Infinity],
        ['no_labels', 2.5],
      ],
    );
    assert.deepEqual(samples[2]!.labels, { group: 'payment-service', topic: 'orders', partition: '0' });
    assert.deepEqual(samples[3]!.labels, { label: 'a "quoted" value, with comma', other: 'x\\y' });
  });

  it('keeps only the wanted metrics', () => {
    const samples = parsePrometheusText(EXPOSITION, (name) => name === 'herald_consumer_lag');
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.value, 4);
  });
});
