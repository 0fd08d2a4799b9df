// The live event stream: server-sent events from the console, filtered by type and key.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { clock, pretty } from './format.js';

const html = htm.bind(h);
const KEEP = 500;

function EventRow({ event }) {
  const [open, setOpen] = useState(false);
  return html`<li class="event" data-type=${event.type} data-key=${event.key}>
    <button class="row" onClick=${() => setOpen(!open)} aria-expanded=${open}>
      <span class="time">${clock(event.time)}</span>
      <span class="topic">${event.topic}</span>
      <span class="type">${event.type ?? '(no type)'}</span>
      <span class="key">${event.key ?? ''}</span>
      <span class="source muted">${event.source ?? ''}</span>
    </button>
    ${event.key ? html`<a class="timeline-link" href=${`#/timeline/${encodeURIComponent(event.key)}`}>timeline</a>` : null}
    ${open ? html`<pre>${pretty(event.data)}</pre>` : null}
  </li>`;
}

const has = (value, part) => !part || (value ?? '').toLowerCase().includes(part.toLowerCase());

/**
 * Newest first; filtering reconnects the stream, which resends the buffered events that match (and the rows shown
 * are filtered at once, so no stale row stays while the stream reconnects).
 */
export function StreamView({ info }) {
  const [type, setType] = useState('');
  const [key, setKey] = useState('');
  const [events, setEvents] = useState([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    setEvents([]);
    const query = new URLSearchParams({ type, key });
    const source = new EventSource(`/api/events/stream?${query}`);
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    source.addEventListener('herald', (message) => {
      const event = JSON.parse(message.data);
      setEvents((list) => [event, ...list.filter((e) => e.seq !== event.seq)].slice(0, KEEP));
    });
    return () => source.close();
  }, [type, key]);
  return html`<section class="stream">
    <h2>Live stream <span class=${`badge ${state}`} data-testid="stream-state">${state}</span></h2>
    <p class="muted">
      Events on
      ${info.topics.length ? info.topics.join(', ') : 'no topics (configure HERALD_CONSOLE_CONTRACTS)'}${' '}
      as the console's own group <code>${info.group}</code> receives them, newest first.
    </p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label
        >Type
        <input name="type" value=${type} placeholder="OrderPlaced" onInput=${(e) => setType(e.target.value)}
      /></label>
      <label
        >Key <input name="key" value=${key} placeholder="order id" onInput=${(e) => setKey(e.target.value)}
      /></label>
    </form>
    ${events.length === 0 ? html`<p class="muted">No events yet.</p>` : null}
    <ul class="events">
      ${events
        .filter((event) => has(event.type, type) && has(event.key, key))
        .map((event) => html`<${EventRow} key=${event.seq} event=${event} />`)}
    </ul>
  </section>`;
}
