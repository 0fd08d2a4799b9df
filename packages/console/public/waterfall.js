// A trace as a waterfall: spans in tree order (each under its parent), bars on the trace's time axis.
import { h } from 'preact';
import htm from 'htm';
import { ms } from './format.js';

const html = htm.bind(h);

/** Depth-first order from the roots (spans whose parent is absent from the trace), children by start time. */
function treeOrder(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const out = [];
  const visit = (parent, depth) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startUs - b.startUs)) {
      out.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit('', 0);
  return out;
}

/** The waterfall of `spans` (the local trace store's rows). */
export function Waterfall({ spans }) {
  const start = Math.min(...spans.map((s) => s.startUs));
  const end = Math.max(...spans.map((s) => s.startUs + s.durationUs));
  const total = Math.max(end - start, 1);
  return html`<div class="waterfall" role="table" aria-label="trace waterfall">
    <div class="wf-head" role="row">
      <span>span</span><span>service</span><span>${ms(total)} in all</span>
    </div>
    ${treeOrder(spans).map(
      ({ span, depth }) =>
        html`<div
          class=${`wf-row ${span.status === 'ERROR' ? 'failed' : ''}`}
          role="row"
          title=${span.statusMessage ?? ''}
        >
          <span class="wf-name" style=${{ paddingLeft: `${depth * 14}px` }}
            >${span.name} <small class="muted">${span.kind}</small></span
          >
          <span class="wf-service">${span.service}</span>
          <span class="wf-track">
            <span
              class="wf-bar"
              style=${{ left: `${((span.startUs - start) / total) * 100}%`, width: `${Math.max((span.durationUs / total) * 100, 0.4)}%` }}
            ></span>
            <small class="wf-duration">${ms(span.durationUs)}</small>
          </span>
        </div>`,
    )}
  </div>`;
}
