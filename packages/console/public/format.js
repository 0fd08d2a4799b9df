// Small formatting helpers shared by the views.

/** A time as HH:MM:SS.mmm (local). */
export function clock(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso ?? '';
  return (
    date.toLocaleTimeString(undefined, { hour12: false }) +
    '.' +
    String(date.getMilliseconds()).padStart(3, '0')
  );
}

/** A rate per second, or a dash when not known yet. */
export function rate(value) {
  return value === undefined || value === null ? '–' : `${value.toFixed(value < 10 ? 2 : 0)}/s`;
}

/** Microseconds as ms with sensible precision. */
export function ms(us) {
  const value = us / 1000;
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

/** Pretty JSON of any value. */
export function pretty(value) {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
