// The topology: services (health, fault toggles), topics (events per second) and consumer groups (rates, lag).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { get, post } from './api.js';
import { rate } from './format.js';

const html = htm.bind(h);
const POLL_MS = 2000;

function Faults({ service }) {
  const [faults, setFaults] = useState(undefined);
  const [error, setError] = useState(undefined);
  const load = () =>
    get(`/api/services/${encodeURIComponent(service)}/faults`).then(
      (body) => setFaults(body.faults ?? []),
      (e) => setError(e.message),
    );
  useEffect(() => void load(), [service]);
  const toggle = async (fault) => {
    setError(undefined);
    try {
      await post(`/api/services/${encodeURIComponent(service)}/faults`, {
        name: fault.name,
        enabled: !fault.enabled,
      });
    } catch (e) {
      setError(e.message);
    }
    await load();
  };
  if (error) return html`<span class="error">${error}</span>`;
  if (!faults || faults.length === 0) return null;
  return html`<div class="faults">
    ${faults.map(
      (fault) =>
        html`<label
          class="fault"
          title=${fault.description}
          data-fault=${fault.name}
          data-enabled=${String(fault.enabled)}
        >
          <input
            type="checkbox"
            role="switch"
            name=${`fault-${service}-${fault.name}`}
            checked=${fault.enabled}
            onChange=${() => toggle(fault)}
          />
          fault <code>${fault.name}</code> ${fault.enabled ? html`<strong class="on">on</strong>` : 'off'}
          <span class="muted">${fault.description}</span>
        </label>`,
    )}
  </div>`;
}

function lagCell(group, transportHasLag) {
  if (group.lag !== undefined) return html`<td class="num">${group.lag}</td>`;
  return html`<td class="muted">${transportHasLag ? 'not reported' : 'unknown (transport)'}</td>`;
}

/** Polls `/api/topology`; rates are since the previous poll. */
export function TopologyView({ info }) {
  const [topology, setTopology] = useState(undefined);
  const [error, setError] = useState(undefined);
  useEffect(() => {
    let stopped = false;
    const tick = () =>
      get('/api/topology').then(
        (body) => !stopped && (setTopology(body), setError(undefined)),
        (e) => !stopped && setError(e.message),
      );
    void tick();
    const timer = setInterval(tick, POLL_MS);
    return () => ((stopped = true), clearInterval(timer));
  }, []);
  if (!topology) return html`<p class="muted">${error ?? 'Sampling…'}</p>`;
  const lagKnown = !topology.limits.some((line) => line.includes('cannot report consumer lag'));
  return html`<section class="topology">
    <h2>Topology <span class="muted">${topology.transport.name} transport</span></h2>
    ${
      topology.limits.length
        ? html`<ul class="limits" aria-label="what this transport cannot report">
            ${topology.limits.map((line) => html`<li>${line}</li>`)}
          </ul>`
        : null
    }
    <h3>Services</h3>
    <table>
      <thead>
        <tr>
          <th>service</th>
          <th>state</th>
          <th>url</th>
          <th>faults</th>
        </tr>
      </thead>
      <tbody>
        ${topology.services.map(
          (service) =>
            html`<tr data-service=${service.name}>
              <td>${service.name}</td>
              <td><span class=${`badge ${service.state}`}>${service.state}</span> ${service.detail ?? ''}</td>
              <td><a href=${service.url}>${service.url}</a></td>
              <td><${Faults} service=${service.name} /></td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Topics</h3>
    <table>
      <thead>
        <tr>
          <th>topic</th>
          <th>events/s (seen by the console)</th>
          <th>seen since start</th>
        </tr>
      </thead>
      <tbody>
        ${topology.topics.map(
          (topic) =>
            html`<tr>
              <td>${topic.name}</td>
              <td class="num">${rate(topic.eventsPerSecond)}</td>
              <td class="num">${topic.seen}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Consumer groups</h3>
    <table>
      <thead>
        <tr>
          <th>group</th>
          <th>topic</th>
          <th>processed/s</th>
          <th>failed/s</th>
          <th>processed</th>
          <th>dead-lettered</th>
          <th>lag</th>
        </tr>
      </thead>
      <tbody>
        ${topology.groups.map(
          (group) =>
            html`<tr>
              <td>${group.group}</td>
              <td>${group.topic}</td>
              <td class="num">${rate(group.processedPerSecond)}</td>
              <td class="num">${rate(group.failedPerSecond)}</td>
              <td class="num">${group.processedTotal}</td>
              <td class="num">${group.deadLetteredTotal}</td>
              ${lagCell(group, lagKnown)}
            </tr>`,
        )}
      </tbody>
    </table>
    <p class="muted">
      Sampled ${new Date(topology.at).toLocaleTimeString()} from the services' /metrics and /health/ready;
      ${info.services.length} services watched.
    </p>
  </section>`;
}
