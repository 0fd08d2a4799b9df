// The dead-letter workflow of the herald CLI: grouped by error, inspect, edit (validated) and replay, discard.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { get, post } from './api.js';
import { clock, pretty } from './format.js';

const html = htm.bind(h);

function describeReport(report) {
  const parts = [`${report.replayed.length} replayed`];
  if (report.refused.length) parts.push(`${report.refused.length} refused (replayed too often already)`);
  if (report.failed.length)
    parts.push(`${report.failed.length} failed: ${report.failed.map((f) => f.error.message).join('; ')}`);
  return parts.join(', ');
}

function Detail({ id, onDone }) {
  const [letter, setLetter] = useState(undefined);
  const [text, setText] = useState('');
  const [message, setMessage] = useState(undefined);
  useEffect(() => {
    get(`/api/dead-letters/${encodeURIComponent(id)}`).then(
      (body) => (setLetter(body), setText(pretty(body.data))),
      (e) => setMessage({ error: true, text: e.message }),
    );
  }, [id]);
  if (!letter)
    return message ? html`<p class="error">${message.text}</p>` : html`<p class="muted">Loading…</p>`;
  const act = async (what) => {
    setMessage(undefined);
    try {
      let outcome;
      if (what === 'replay') {
        const report = await post('/api/dead-letters/replay', { ids: [id] });
        outcome = describeReport(report);
      } else if (what === 'edit') {
        let data;
        try {
          data = JSON.parse(text);
        } catch (e) {
          setMessage({ error: true, text: `Not JSON: ${e.message}` });
          return;
        }
        const report = await post(`/api/dead-letters/${encodeURIComponent(id)}/edit`, { data });
        outcome = describeReport(report);
      } else {
        const report = await post('/api/dead-letters/discard', { ids: [id] });
        outcome = `${report.discarded.length} discarded`;
      }
      onDone(`${letter.type} ${letter.eventId}: ${outcome}`);
    } catch (e) {
      setMessage({ error: true, text: e.body?.code ? `${e.message} (${e.body.code})` : e.message });
    }
  };
  return html`<div class="detail" data-testid="dead-letter-detail">
    <h4>${letter.type} <code>${letter.eventId}</code></h4>
    <dl>
      <dt>group</dt>
      <dd>${letter.group}</dd>
      <dt>topic</dt>
      <dd>${letter.topic} [${letter.partition}] @ ${letter.offset}</dd>
      <dt>key</dt>
      <dd><a href=${`#/timeline/${encodeURIComponent(letter.key ?? '')}`}>${letter.key}</a></dd>
      <dt>error</dt>
      <dd class="error">
        ${letter.error.name}${letter.error.code ? ` (${letter.error.code})` : ''}: ${letter.error.message}
      </dd>
      <dt>reason</dt>
      <dd>${letter.reason} after ${letter.attempts} attempts; replayed ${letter.replays} times</dd>
      <dt>dead-lettered</dt>
      <dd>${new Date(letter.deadLetteredAt).toLocaleString()}</dd>
    </dl>
    ${
      letter.error.stack
        ? html`<details>
            <summary>stack</summary>
            <pre>${letter.error.stack}</pre>
          </details>`
        : null
    }
    <label class="data"
      >Data
      ${letter.schemaKnown ? '(validated against the event schema on edit)' : '(schema unknown: not validated)'}
      <textarea
        name="data"
        rows="8"
        disabled=${!letter.editable}
        value=${text}
        onInput=${(e) => setText(e.target.value)}
      ></textarea>
    </label>
    <div class="actions">
      <button onClick=${() => act('replay')}>Replay</button>
      <button onClick=${() => act('edit')} disabled=${!letter.editable}>Edit and replay</button>
      <button class="danger" onClick=${() => act('discard')}>Discard</button>
    </div>
    ${message ? html`<p class=${message.error ? 'error' : 'ok'} role="status">${message.text}</p>` : null}
  </div>`;
}

function Members({ errorGroup, onChange }) {
  const [letters, setLetters] = useState(undefined);
  const [open, setOpen] = useState(undefined);
  const load = () =>
    get(`/api/dead-letters?errorGroup=${encodeURIComponent(errorGroup)}`).then(
      (b) => setLetters(b.deadLetters),
      () => setLetters([]),
    );
  useEffect(() => void load(), [errorGroup]);
  if (!letters) return html`<p class="muted">Loading…</p>`;
  return html`<table class="members">
    <thead>
      <tr>
        <th>dead-lettered</th>
        <th>type</th>
        <th>key</th>
        <th>attempts</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      ${letters.map(
        (letter) =>
          html`<tr data-id=${letter.id}>
              <td>${clock(letter.deadLetteredAt)}</td>
              <td>${letter.type}</td>
              <td>${letter.key}</td>
              <td class="num">${letter.attempts}</td>
              <td>
                <button onClick=${() => setOpen(open === letter.id ? undefined : letter.id)}>
                  ${open === letter.id ? 'Close' : 'Inspect'}
                </button>
              </td>
            </tr>
            ${
              open === letter.id
                ? html`<tr>
                    <td colspan="5">
                      <${Detail}
                        id=${letter.id}
                        onDone=${(text) => (setOpen(undefined), load(), onChange(text))}
                      />
                    </td>
                  </tr>`
                : null
            }`,
      )}
    </tbody>
  </table>`;
}

/** Error groups, largest first; a group opens to its members and each member to its detail. */
export function DeadLettersView({ info, selected }) {
  const [groups, setGroups] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [message, setMessage] = useState(undefined);
  const load = () =>
    get('/api/dead-letters/groups').then(
      (b) => (setGroups(b.groups), setError(undefined)),
      (e) => setError(e.message),
    );
  useEffect(() => {
    void load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, []);
  const bulk = async (action, group) => {
    if (action === 'discard' && !confirm(`Discard ${group.count} dead letters for good?`)) return;
    setMessage(undefined);
    try {
      const report = await post(`/api/dead-letters/${action}`, { errorGroup: group.key });
      setMessage({
        text: action === 'replay' ? describeReport(report) : `${report.discarded.length} discarded`,
      });
    } catch (e) {
      setMessage({ error: true, text: e.message });
    }
    await load();
  };
  if (error) return html`<p class="error">${error}</p>`;
  if (!groups) return html`<p class="muted">Loading…</p>`;
  return html`<section class="dead-letters">
    <h2>Dead letters <span class="muted">${info.transport} transport</span></h2>
    ${message ? html`<p class=${message.error ? 'error' : 'ok'} role="status">${message.text}</p>` : null}
    ${groups.length === 0 ? html`<p class="muted" data-testid="no-dead-letters">No dead letters.</p>` : null}
    ${groups.map(
      (group) =>
        html`<article class="error-group" data-error-group=${group.key}>
          <header>
            <strong class="count">${group.count}</strong>
            <span class="error-name"
              >${group.errorName}${group.errorCode ? ` (${group.errorCode})` : ''}</span
            >
            <span class="message">${group.message}</span>
          </header>
          <p class="muted">
            group <code>${group.group}</code> · ${group.types.join(', ')} on ${group.topics.join(', ')} ·
            ${group.reasons.join(', ')} · first ${clock(group.firstSeen)}, last ${clock(group.lastSeen)}
          </p>
          <div class="actions">
            <a href=${selected === group.key ? '#/dead-letters' : `#/dead-letters/${group.key}`}
              >${selected === group.key ? 'Hide' : 'Show'} events</a
            >
            <button onClick=${() => bulk('replay', group)}>Replay all ${group.count}</button>
            <button class="danger" onClick=${() => bulk('discard', group)}>Discard all</button>
          </div>
          ${
            selected === group.key
              ? html`<${Members}
                  errorGroup=${group.key}
                  onChange=${(text) => (setMessage({ text }), load())}
                />`
              : null
          }
        </article>`,
    )}
  </section>`;
}
