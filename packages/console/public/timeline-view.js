// An order's timeline: the events about it in the order the console saw them, dead letters still waiting, and
// its trace (a waterfall from the local trace store, or a link to the tracing backend).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { get } from './api.js';
import { clock, pretty } from './format.js';
import { Waterfall } from './waterfall.js';

const html = htm.bind(h);
const POLL_MS = 2000;

function Trace({ trace }) {
  if (trace.source === 'local') return html`<${Waterfall} spans=${trace.spans} />`;
  if (trace.source === 'link')
    return html`<p>
      <a href=${trace.url} target="_blank" rel="noopener noreferrer">Open trace ${trace.traceId}</a> in the
      tracing backend.
    </p>`;
  return html`<p class="muted">${trace.reason}</p>`;
}

function Events({ events }) {
  return html`<ol class="timeline">
    ${events.map(
      (event) =>
        html`<li data-type=${event.type}>
          <span class="time">${clock(event.time)}</span>
          <strong class="type">${event.type}</strong>
          <span class="topic">${event.topic}</span>
          <span class="source muted">from ${event.source}</span>
          <details>
            <summary>data</summary>
            <pre>${pretty(event.data)}</pre>
          </details>
        </li>`,
    )}
  </ol>`;
}

/** Asks for a subject (an order id), then polls its timeline. */
export function TimelineView({ subject }) {
  const [input, setInput] = useState(subject);
  const [timeline, setTimeline] = useState(undefined);
  const [error, setError] = useState(undefined);
  useEffect(() => {
    setInput(subject);
    setTimeline(undefined);
    if (!subject) return undefined;
    let stopped = false;
    const tick = () =>
      get(`/api/timeline/${encodeURIComponent(subject)}`).then(
        (body) => !stopped && (setTimeline(body), setError(undefined)),
        (e) => !stopped && setError(e.message),
      );
    void tick();
    const timer = setInterval(tick, POLL_MS);
    return () => ((stopped = true), clearInterval(timer));
  }, [subject]);
  const go = (event) => {
    event.preventDefault();
    location.hash = `#/timeline/${encodeURIComponent(input.trim())}`;
  };
  return html`<section class="timeline-view">
    <h2>Order timeline</h2>
    <form class="filters" onSubmit=${go}>
      <label
        >Order id (or any partition key)
        <input name="subject" value=${input} onInput=${(e) => setInput(e.target.value)}
      /></label>
      <button type="submit">Show</button>
    </form>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${
      timeline
        ? html`<h3>
              Events
              <span class="muted"
                >(${timeline.events.length}, as seen by the console since
                ${timeline.bufferedSince ? clock(timeline.bufferedSince) : 'it started'})</span
              >
            </h3>
            ${timeline.events.length === 0 ? html`<p class="muted">No events about ${timeline.subject} seen yet.</p>` : html`<${Events} events=${timeline.events} />`}
            ${
              timeline.deadLetters.length
                ? html`<h3>Waiting in the dead-letter queue</h3>
                    <ul class="waiting">
                      ${timeline.deadLetters.map(
                        (d) =>
                          html`<li class="error">
                            <a href="#/dead-letters">${d.type}</a> failed in <code>${d.group}</code> at
                            ${clock(d.deadLetteredAt)}: ${d.error}
                          </li>`,
                      )}
                    </ul>`
                : null
            }
            <h3>Trace</h3>
            <${Trace} trace=${timeline.trace} />`
        : null
    }
  </section>`;
}
