// Display formatting for the dashboard. Plain browser JavaScript (no build step): it is inlined into
// the page by dashboard.ts and imported as a module by the tests, which check it against the CLI's
// formatter so the page and `spendtrace report` print the same money. Amounts arrive as exact
// decimal strings (pico-USD, 12 fractional digits) and only become floats to size a bar.

/** `"0.004350000000"` -> 4350000000n (pico-USD). */
export function parsePico(usd) {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(String(usd ?? '0').trim());
  if (!m) throw new RangeError('not a decimal amount: ' + usd);
  const v = BigInt((m[2] || '0') + (m[3] ?? '').padEnd(12, '0').slice(0, 12));
  return m[1] ? -v : v;
}

/**
 * Pico-USD -> `$1,234.567890`: rounded half-up to `digits`, never through a float. A non-zero
 * amount too small for `digits` keeps the digits it has instead of reading as $0 (as the CLI does).
 */
export function moneyPico(pico, digits = 6) {
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const unit = 10n ** BigInt(12 - digits);
  let rounded = (abs + unit / 2n) / unit;
  let scale = digits;
  if (rounded === 0n && abs !== 0n) {
    rounded = abs;
    scale = 12;
    while (scale > digits && rounded % 10n === 0n) {
      rounded /= 10n;
      scale--;
    }
  }
  const s = rounded.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + '$' + int + (scale > 0 ? '.' + s.slice(s.length - scale) : '');
}

/** An exact decimal string (or null: "no value") -> display text. */
export function money(usd, digits = 6) {
  return usd === null || usd === undefined ? '—' : moneyPico(parsePico(usd), digits);
}

/**
 * Cost of something that may include calls on unpriced models: their cost is missing, not zero,
 * so an all-unpriced amount reads "unpriced" and a partly priced one says so.
 */
export function costText(usd, unpricedCalls) {
  if (!unpricedCalls) return money(usd);
  return parsePico(usd) === 0n ? 'unpriced' : money(usd) + ' + unpriced';
}

/** 0..1 -> `86.4%`; null -> `—`. */
export function percent(x, digits = 1) {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : (x * 100).toFixed(digits) + '%';
}

export function count(n) {
  return Number(n ?? 0).toLocaleString('en-US');
}

/** Pico amount as a fraction of `max` (both bigint), for bar widths; 0 when max is 0. */
export function fraction(pico, max) {
  if (max <= 0n || pico <= 0n) return 0;
  return Math.min(1, Number((pico * 1_000_000n) / max) / 1_000_000);
}

/** `24h` / `7d` / `30m` / `2w` -> seconds; `all` -> null (no lower bound). Mirrors the API's windows. */
export function windowSeconds(since) {
  if (since === 'all') return null;
  const m = /^(\d+)(m|h|d|w)$/.exec(since);
  if (!m) return null;
  return Number(m[1]) * { m: 60, h: 3600, d: 86400, w: 604800 }[m[2]];
}

/**
 * byHour rows -> contiguous buckets for the time chart: hourly when the span is two days or less,
 * otherwise daily (UTC), empty periods included so gaps show as gaps. Sums stay exact (bigint).
 */
export function timeBuckets(rows, since, nowMs) {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const secs = windowSeconds(since);
  const hours = rows.map((r) => Date.parse(r.hour));
  const first = secs !== null ? Math.floor((nowMs - secs * 1000) / HOUR) * HOUR : hours.length ? Math.min(...hours) : nowMs;
  const last = Math.max(nowMs, ...hours);
  const step = last - first <= 2 * DAY ? HOUR : DAY;
  const start = Math.floor(first / step) * step;
  const buckets = [];
  for (let t = start; t <= last; t += step) buckets.push({ start: t, step, pico: 0n, llmCalls: 0, toolCalls: 0, errors: 0, unpricedCalls: 0 });
  for (const r of rows) {
    const i = Math.floor((Date.parse(r.hour) - start) / step);
    const b = buckets[Math.max(0, Math.min(buckets.length - 1, i))];
    b.pico += parsePico(r.cost);
    b.llmCalls += r.llmCalls;
    b.toolCalls += r.toolCalls;
    b.errors += r.errors;
    b.unpricedCalls += r.unpricedCalls;
  }
  return buckets;
}

/** `2026-11-22T05:00:00.000Z` -> `2026-11-22 05:00 UTC`. */
export function utc(isoOrMs, withTime = true) {
  const s = new Date(isoOrMs).toISOString();
  return withTime ? s.slice(0, 16).replace('T', ' ') + ' UTC' : s.slice(0, 10);
}

/**
 * Task costs (pico bigints) -> `n` equal-width bins from $0 to the dearest task, for the cost-per-task
 * histogram. A cost on a bin's upper edge falls in that bin (the dearest task is in the last one).
 */
export function costHistogram(costs, n = 20) {
  const max = costs.reduce((m, c) => (c > m ? c : m), 0n);
  const bins = Array.from({ length: n }, (_, i) => ({ lo: (max * BigInt(i)) / BigInt(n), hi: (max * BigInt(i + 1)) / BigInt(n), count: 0 }));
  if (max === 0n) return { max, bins: costs.length ? [{ lo: 0n, hi: 0n, count: costs.length }] : [] };
  for (const c of costs) {
    let i = Number((c * BigInt(n)) / max);
    if (i >= n) i = n - 1;
    if (i > 0 && c <= bins[i - 1].hi) i--; // exactly on an edge: the lower bin
    bins[i].count++;
  }
  return { max, bins };
}

/** Compare two task rows by a dashboard sort key; `dir` 1 ascending, -1 descending. Ties keep the API's order (sort is stable). */
export function compareTasks(a, b, key, dir) {
  const pico = (t) => parsePico(t.cost);
  const v =
    {
      task: (t) => t.taskName || '',
      agent: (t) => t.agent || '',
      outcome: (t) => t.outcome || '',
      started: (t) => t.firstSeen,
      calls: (t) => t.llmCalls + t.toolCalls,
      median: (t) => (t.vsMedian === null || t.vsMedian === undefined ? -1 : t.vsMedian),
      cost: pico,
    }[key] || pico;
  const x = v(a);
  const y = v(b);
  return (x < y ? -1 : x > y ? 1 : 0) * dir;
}
