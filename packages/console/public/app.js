// The console's shell: the header, the navigation (hash routes) and the token field.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { get, setToken, token } from './api.js';
import { StreamView } from './stream-view.js';
import { TopologyView } from './topology-view.js';
import { DeadLettersView } from './dead-letters-view.js';
import { TimelineView } from './timeline-view.js';

const html = htm.bind(h);

const TABS = [
  ['stream', 'Live stream'],
  ['topology', 'Topology'],
  ['dead-letters', 'Dead letters'],
  ['timeline', 'Order timeline'],
];

function route() {
  const [, tab = 'stream', ...rest] = location.hash.replace(/^#/, '').split('/');
  return { tab, arg: rest.length ? decodeURIComponent(rest.join('/')) : '' };
}

function TokenField() {
  const [value, setValue] = useState(token());
  const [saved, setSaved] = useState(token() !== '');
  const save = (event) => {
    event.preventDefault();
    setToken(value.trim());
    setSaved(value.trim() !== '');
  };
  return html`<form class="token" onSubmit=${save}>
    <label
      >Admin token <input type="password" value=${value} onInput=${(e) => setValue(e.target.value)}
    /></label>
    <button type="submit">${saved ? 'Saved' : 'Use'}</button>
  </form>`;
}

function App() {
  const [current, setCurrent] = useState(route());
  const [info, setInfo] = useState(undefined);
  const [error, setError] = useState(undefined);
  useEffect(() => {
    const onHash = () => setCurrent(route());
    addEventListener('hashchange', onHash);
    get('/api/info').then(setInfo, (e) => setError(e.message));
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (error) return html`<p class="error">The console API did not answer: ${error}</p>`;
  if (!info) return html`<p class="muted">Connecting…</p>`;
  const view =
    current.tab === 'topology'
      ? html`<${TopologyView} info=${info} />`
      : current.tab === 'dead-letters'
        ? html`<${DeadLettersView} info=${info} selected=${current.arg} />`
        : current.tab === 'timeline'
          ? html`<${TimelineView} info=${info} subject=${current.arg} />`
          : html`<${StreamView} info=${info} />`;
  return html`<header>
      <h1>Herald console</h1>
      <span class="broker" title="broker">${info.transport} · ${info.broker}</span>
      ${info.tokenRequired ? html`<${TokenField} />` : null}
    </header>
    <nav>
      ${TABS.map(
        ([tab, label]) =>
          html`<a
            href=${`#/${tab}`}
            class=${current.tab === tab ? 'active' : ''}
            aria-current=${current.tab === tab ? 'page' : undefined}
            >${label}</a
          >`,
      )}
    </nav>
    <main>${view}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
