// The dashboard's behaviour: fetch /api/report for the chosen window and draw it. Inlined after
// format.js by dashboard.ts, so the helpers there are in scope. Builds DOM nodes (never HTML
// strings from data) so names from spans cannot inject markup, and sets sizes through CSSOM, which
// the page's Content-Security-Policy allows while it forbids inline style attributes.

const SINCE_CHOICES = ['24h', '7d', '30d', 'all'];
const SINCE_WORDS = { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days', all: 'all time' };
const TOP_TASKS = 10;
const TOP_BREAKDOWN = 15;
// The API's dimensions (reports/breakdown.ts DIMENSIONS), in the order the toggles show them.
const DIMENSIONS = ['agent', 'task', 'model', 'provider', 'user', 'tenant', 'tool', 'service', 'prompt'];
const DEFAULT_DIMS = ['agent', 'task', 'model'];
const REFRESH_MS = 60_000;

const $ = (sel) => document.querySelector(sel);
const app = $('#app');
const params = new URLSearchParams(location.search);
const state = {
  since: SINCE_CHOICES.includes(params.get('since')) ? params.get('since') : '7d',
  service: params.get('service') || '',
  // ?concentration=0.5: the share above which the top model is flagged (the API's default otherwise)
  concentration: params.get('concentration') || '',
  inflight: null,
  allTasks: false,
  report: null,
  sort: { key: 'cost', dir: -1 },
  dims: parseDims(params.get('by')),
  allBreakdown: false,
  breakdown: null,
};

/** `?by=user,tenant` -> the known dimensions in it, in the toggles' order; the weekly table by default. */
function parseDims(text) {
  const want = String(text || '')
    .split(',')
    .map((d) => d.trim());
  const dims = DIMENSIONS.filter((d) => want.includes(d));
  return dims.length ? dims : [...DEFAULT_DIMS];
}

/** since (+ service) as a query string, shared by every request the page makes. */
function windowQuery(since) {
  const q = new URLSearchParams({ since });
  if (state.service) q.set('service', state.service);
  if (state.concentration) q.set('concentration', state.concentration);
  return q;
}

/** h('div', { class: 'x', title: 't' }, child, 'text') -> element. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style') Object.assign(el.style, v);
    else if (k === 'data') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const exact = (usd) => '$' + usd + ' exactly';

function sinceWords(since) {
  return SINCE_WORDS[since] || 'last ' + since;
}

async function load() {
  const since = state.since;
  state.inflight?.abort();
  const ac = new AbortController();
  state.inflight = ac;
  app.setAttribute('aria-busy', 'true');
  app.dataset.state = 'loading';
  for (const b of document.querySelectorAll('#since button')) b.setAttribute('aria-pressed', String(b.dataset.since === since));
  const query = windowQuery(since);
  if (state.dims.join(',') !== DEFAULT_DIMS.join(',')) query.set('by', state.dims.join(','));
  history.replaceState(null, '', '?' + query);
  $('#raw').href = '/api/report?' + windowQuery(since);
  let report;
  try {
    const res = await fetch('/api/report?' + windowQuery(since), {
      signal: ac.signal,
      headers: { accept: 'application/json' },
    });
    const body = await res.json().catch(() => ({ error: 'the service answered ' + res.status + ' without JSON' }));
    if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
    report = body;
  } catch (err) {
    if (ac.signal.aborted) return; // a newer request replaced this one
    state.inflight = null;
    showError('Cannot load the report: ' + (err && err.message ? err.message : err) + '. Showing the last data loaded, if any.');
    app.dataset.state = 'error';
    app.setAttribute('aria-busy', 'false');
    return;
  }
  if (ac.signal.aborted) return;
  state.inflight = null;
  state.report = report;
  showError('');
  render(report, since);
  loadSidePanels(since);
  loadBreakdown(since);
  $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  app.setAttribute('aria-busy', 'false');
  app.dataset.since = since;
  app.dataset.state = isEmpty(report) ? 'empty' : 'ready';
}

function showError(text) {
  const el = $('#error');
  el.textContent = text;
  el.hidden = !text;
}

function isEmpty(r) {
  return r.summary.tasks === 0 && r.byHour.length === 0 && r.byModel.length === 0 && r.byTool.length === 0;
}

function render(r, since) {
  const s = r.summary;
  $('#scope').textContent = 'LLM spend · ' + sinceWords(since) + (s.service ? ' · service ' + s.service : ' · all services');
  document.title = money(s.totalCost) + ' · ' + sinceWords(since) + ' — spendtrace';
  const empty = isEmpty(r);
  $('#empty').hidden = !empty;
  $('#content').hidden = empty;
  renderUnpriced(r);
  if (empty) {
    $('#empty-title').textContent = since === 'all' ? 'No LLM spend recorded yet' : 'No LLM spend in the ' + sinceWords(since);
    $('#empty-endpoint').textContent = 'OTEL_EXPORTER_OTLP_ENDPOINT=' + location.origin;
    $('#empty-wider').hidden = since === 'all';
    return;
  }
  renderTicker(r);
  renderKpis(s);
  renderTime(r.byHour, since);
  renderProjection(r.projection);
  renderTrend(r.dailyTrend);
  renderHistogram(r);
  renderTasks(r.byTask);
  renderModels(r.byModel);
  renderConcentration(r.summary.topModel);
  renderAgents(r.byAgent);
  renderTools(r.byTool);
}

function renderUnpriced(r) {
  const el = $('#unpriced');
  const n = r.summary.unpricedCalls;
  el.hidden = !n;
  if (!n) return el.replaceChildren();
  const models = r.byModel.filter((m) => m.unpricedCalls > 0);
  el.replaceChildren(
    h(
      'strong',
      {},
      '⚠ ' + count(n) + (n === 1 ? ' LLM call has' : ' LLM calls have') + ' no known price. Their cost is missing from every total on this page.',
    ),
    h(
      'p',
      {},
      'Unpriced: ',
      models.flatMap((m, i) => [
        i ? ', ' : '',
        h('code', {}, m.model || '(unknown model)'),
        ' (' + count(m.unpricedCalls) + (m.unpricedCalls === 1 ? ' call)' : ' calls)'),
      ]),
      '. Add their prices to a price overrides file (',
      h('code', {}, 'spendtrace serve --prices prices.json'),
      '), then ',
      h('code', {}, 'spendtrace reprice'),
      '.',
    ),
  );
}

function kpi(key, label, value, sub, cls, title) {
  return h(
    'div',
    { class: 'kpi ' + (cls || ''), data: { kpi: key } },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', title }, value),
    sub ? h('div', { class: 'sub' }, sub) : null,
  );
}

function renderKpis(s) {
  const decided = s.successfulTasks + s.failedTasks;
  const p = s.costPerTask;
  $('#kpis').replaceChildren(
    kpi('total', 'Total cost', money(s.totalCost), 'LLM ' + money(s.llmCost) + ' · tools ' + money(s.toolCost), 'primary', exact(s.totalCost)),
    kpi(
      'per-success',
      'Cost per successful task',
      money(s.costPerSuccessfulTask),
      s.successfulTasks
        ? 'all ' +
            count(s.tasks - s.unpricedTasks) +
            ' priced tasks ÷ their successes' +
            (s.unpricedTasks ? ' (' + count(s.unpricedTasks) + ' with an unpriced call left out)' : '')
        : 'no task succeeded yet',
      '',
      s.costPerSuccessfulTask ? exact(s.costPerSuccessfulTask) : undefined,
    ),
    kpi(
      'success-rate',
      'Success rate',
      percent(s.successRate),
      count(s.successfulTasks) +
        ' ok · ' +
        count(s.failedTasks) +
        ' failed' +
        (s.unknownOutcomeTasks ? ' · ' + count(s.unknownOutcomeTasks) + ' unreported' : ''),
      decided && s.failedTasks === 0 ? 'good' : '',
    ),
    h(
      'div',
      { class: 'kpi', data: { kpi: 'per-task' } },
      h('div', { class: 'label' }, 'Cost per task'),
      p
        ? h(
            'dl',
            { class: 'pcts' },
            h('dt', {}, 'p50'),
            h('dd', { title: exact(p.p50) }, money(p.p50)),
            h('dt', {}, 'p90'),
            h('dd', { title: exact(p.p90) }, money(p.p90)),
            h('dt', {}, 'p95'),
            h('dd', { title: exact(p.p95) }, money(p.p95)),
            h('dt', {}, 'p99'),
            h('dd', { title: exact(p.p99) }, money(p.p99)),
          )
        : h('div', { class: 'value' }, '—'),
    ),
    kpi('retry', 'Retry overhead', percent(s.retryOverhead), money(s.retryCost) + ' on billed failures and repeated requests', '', exact(s.retryCost)),
    kpi(
      'unpriced',
      'Unpriced calls',
      count(s.unpricedCalls),
      s.unpricedCalls ? 'cost missing from the totals' : 'every call has a price',
      s.unpricedCalls ? 'bad' : 'good',
    ),
  );
}

/** A horizontal bar row: label + amount on one line, bar, then a muted detail line. */
function barRow({ key, label, amount, amountTitle, segments, unpriced, sub, badge, extra }) {
  return h(
    'div',
    { class: 'bar-row' + (unpriced ? ' is-unpriced' : ''), data: { key } },
    h('div', { class: 'label', title: label }, label, badge ? ' ' : '', badge || ''),
    h('div', { class: 'amount', title: amountTitle }, amount),
    h(
      'div',
      { class: 'track', 'aria-hidden': 'true' },
      segments.map(([frac, cls]) => h('div', { class: 'fill ' + (cls || ''), style: { width: (frac * 100).toFixed(2) + '%' } })),
    ),
    sub ? h('div', { class: 'sub' }, sub) : null,
    extra || null,
  );
}

const maxPico = (rows, pick) =>
  rows.reduce((m, r) => {
    const v = parsePico(pick(r));
    return v > m ? v : m;
  }, 0n);
const none = (text) => h('p', { class: 'none' }, text);

function renderModels(rows) {
  const max = maxPico(rows, (m) => m.cost);
  $('#models').replaceChildren(
    ...(rows.length
      ? rows.map((m) => {
          const allUnpriced = m.unpricedCalls > 0 && parsePico(m.cost) === 0n;
          const detail = [m.provider, count(m.calls) + (m.calls === 1 ? ' call' : ' calls')];
          const top = state.report && state.report.summary.topModel;
          const concentrated = top && top.concentrated && top.provider === m.provider && top.model === m.model;
          if (m.errors) detail.push(count(m.errors) + (m.errors === 1 ? ' error' : ' errors'));
          if (m.unpricedCalls) detail.push(count(m.unpricedCalls) + ' unpriced, not in totals');
          else detail.push(percent(m.share) + ' of LLM spend');
          return barRow({
            key: m.provider + '/' + m.model,
            label: m.model || '(unknown model)',
            badge: m.unpricedCalls
              ? h('span', { class: 'badge unpriced' }, 'unpriced')
              : concentrated
                ? h('span', { class: 'badge flag', title: 'over ' + percent(top.threshold, 0) + ' of LLM spend' }, 'concentrated')
                : null,
            amount: costText(m.cost, m.unpricedCalls),
            amountTitle: allUnpriced ? 'no price known for this model: cost unknown, not zero' : exact(m.cost),
            segments: [[fraction(parsePico(m.cost), max)]],
            unpriced: m.unpricedCalls > 0,
            sub: detail.join(' · '),
          });
        })
      : [none('No LLM calls in this window.')]),
  );
}

function renderAgents(rows) {
  const max = maxPico(rows, (a) => a.cost);
  $('#agents').replaceChildren(
    ...(rows.length
      ? rows.map((a) =>
          barRow({
            key: a.agent,
            label: a.agent || '(no agent)',
            amount: costText(a.cost, a.unpricedCalls),
            amountTitle: exact(a.cost),
            segments: [[fraction(parsePico(a.toolCost), max), 'fee'], [fraction(parsePico(a.llmCost), max)]],
            unpriced: false,
            sub:
              count(a.tasks) +
              (a.tasks === 1 ? ' task' : ' tasks') +
              ' · ' +
              count(a.successfulTasks) +
              ' ok, ' +
              count(a.failedTasks) +
              ' failed · ' +
              (a.costPerSuccessfulTask ? money(a.costPerSuccessfulTask) + ' per success' : 'no success yet'),
          }),
        )
      : [none('No tasks in this window.')]),
  );
}

function renderTools(rows) {
  const max = maxPico(rows, (t) => t.cost);
  $('#tools').replaceChildren(
    ...(rows.length
      ? rows.map((t) =>
          barRow({
            key: t.tool,
            label: t.tool,
            amount: costText(t.cost, t.unpricedCalls),
            amountTitle: exact(t.cost),
            segments: [[fraction(parsePico(t.toolCost), max), 'fee'], [fraction(parsePico(t.llmCost), max)]],
            unpriced: false,
            sub:
              count(t.calls) +
              (t.calls === 1 ? ' call' : ' calls') +
              ' · fee ' +
              money(t.toolCost) +
              (t.llmCalls ? ' · ' + count(t.llmCalls) + (t.llmCalls === 1 ? ' LLM call' : ' LLM calls') + ' inside ' + money(t.llmCost) : '') +
              (t.latencyMs.p50 ? ' · p50 ' + Math.round(t.latencyMs.p50) + ' ms' : ''),
            extra: toolRates(t),
          }),
        )
      : [none('No tool calls in this window.')]),
  );
}

function renderTasks(rows) {
  const sorted = [...rows].sort((x, y) => compareTasks(x, y, state.sort.key, state.sort.dir));
  const shown = state.allTasks ? sorted.slice(0, 500) : sorted.slice(0, TOP_TASKS);
  const max = maxPico(rows, (t) => t.cost);
  const over = rows.filter((t) => t.overMedian).length;
  $('#tasks-hint').textContent = rows.length
    ? count(rows.length) + (rows.length === 1 ? ' task' : ' tasks') + (over ? ' · ' + count(over) + " over 2× their task name's median" : '')
    : '';
  for (const th of document.querySelectorAll('#tasks th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === state.sort.key ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  $('#tasks tbody').replaceChildren(
    ...(shown.length
      ? shown.map((t) => {
          const outcome = t.outcome || 'unknown';
          return h(
            'tr',
            { class: t.overMedian ? 'over-median' : undefined, data: { task: t.taskId } },
            h(
              'td',
              { class: 'task', title: t.taskName + ' · ' + t.taskId + ' · started ' + utc(t.firstSeen) + (t.userId ? ' · user ' + t.userId : '') },
              h('span', { class: 'tname' }, t.taskName || '(unnamed)'),
            ),
            h('td', {}, t.agent || '—'),
            h('td', {}, h('span', { class: 'badge ' + outcome }, outcome === 'unknown' ? 'no outcome' : outcome)),
            h('td', { class: 'started' }, utc(t.firstSeen).slice(5, 16)),
            h(
              'td',
              {
                class: 'n',
                title: count(t.llmCalls) + ' LLM calls, ' + count(t.toolCalls) + ' tool calls' + (t.retries ? ', ' + count(t.retries) + ' retried' : ''),
              },
              count(t.llmCalls + t.toolCalls),
            ),
            h(
              'td',
              {
                class: 'n median',
                title:
                  t.vsMedian === null
                    ? 'no median: unpriced call, or no priced task of this name'
                    : t.vsMedian + '× the median ' + (t.taskName || '') + ' task',
              },
              t.vsMedian === null ? '—' : t.vsMedian.toFixed(1) + '×',
              t.overMedian ? h('span', { class: 'badge flag' }, '> 2×') : null,
            ),
            h(
              'td',
              { class: 'n cost' + (t.unpricedCalls ? ' is-unpriced' : ''), title: exact(t.cost) },
              costText(t.cost, t.unpricedCalls),
              h('span', { class: 'cbar', 'aria-hidden': 'true', style: { width: (fraction(parsePico(t.cost), max) * 70).toFixed(1) + '%' } }),
            ),
          );
        })
      : [h('tr', {}, h('td', { colspan: '7', class: 'none' }, 'No tasks in this window.'))]),
  );
  const more = $('#tasks-more');
  more.hidden = rows.length <= TOP_TASKS;
  more.textContent = state.allTasks ? 'Show the top ' + TOP_TASKS + ' only' : 'Show all ' + count(rows.length) + ' tasks';
}

/** A tool's success rate (its calls in tasks that succeeded) beside its own error rate, as the API gives them. */
function toolRates(t) {
  const ok = t.successRate;
  const err = t.errorRate;
  return h(
    'div',
    { class: 'rates' },
    h(
      'span',
      {
        class: 'rate success-rate' + (ok !== null && ok < 0.8 ? ' low' : ''),
        title: 'share of the calls made in tasks that reported success (of those whose task reported an outcome)',
      },
      ok === null ? 'no task outcome' : percent(ok) + ' in successful tasks',
    ),
    h(
      'span',
      { class: 'rate error-rate' + (err ? ' bad' : ''), title: "the tool's own spans that ended in an error" },
      err === null ? 'no calls' : percent(err) + ' errors',
    ),
  );
}

/** The model over the concentration threshold (default 70 % of LLM spend), flagged above the bars. */
function renderConcentration(top) {
  const el = $('#concentration');
  el.hidden = !(top && top.concentrated);
  if (el.hidden) return el.replaceChildren();
  el.replaceChildren(
    h('span', { class: 'badge flag' }, 'concentrated'),
    ' ',
    h('strong', {}, top.model),
    ' takes ' +
      percent(top.share) +
      ' of LLM spend (' +
      money(top.cost) +
      '), over the ' +
      percent(top.threshold, 0) +
      ' threshold: one provider outage or price change moves most of the bill.',
  );
}

/** The month projected from the last 7 days, with its method and the days it stands on. */
function renderProjection(p) {
  $('#proj-hint').textContent = p.month + ' · ' + count(p.daysInMonth) + ' days';
  if (!p.days.length) return $('#projection').replaceChildren(none('No spend in the last 7 days to project from.'));
  const days = [...p.days].reverse(); // oldest first, left to right
  const max = maxPico(days, (d) => d.cost);
  const stat = (key, label, usd) => h('div', { class: 'stat', data: { stat: key } }, h('dt', {}, label), h('dd', { title: exact(usd) }, money(usd)));
  $('#projection').replaceChildren(
    h(
      'div',
      { class: 'proj-head' },
      h('span', { class: 'proj-value', title: exact(p.projectedMonth) }, money(p.projectedMonth)),
      h('span', { class: 'proj-range' }, 'likely ' + money(p.range.low) + ' – ' + money(p.range.high)),
    ),
    h('p', { class: 'method' }, 'Method: ' + p.method + '.'),
    h(
      'dl',
      { class: 'stats' },
      stat('mean', 'daily mean', p.dailyMean),
      stat('sd', 'std dev', p.dailyStdDev),
      stat('min', 'lowest day', p.dailyMin),
      stat('max', 'highest day', p.dailyMax),
    ),
    h(
      'div',
      { class: 'pdays', role: 'img', 'aria-label': 'Daily totals the projection uses, oldest first' },
      days.map((d) =>
        h(
          'div',
          { class: 'pday', title: '24 h from ' + utc(d.start) + ': ' + exact(d.cost), data: { start: d.start } },
          h('div', { class: 'fill', style: { height: (fraction(parsePico(d.cost), max) * 100).toFixed(2) + '%' } }),
        ),
      ),
    ),
    p.unpricedCalls
      ? h(
          'p',
          { class: 'warn' },
          '⚠ ' + count(p.unpricedCalls) + (p.unpricedCalls === 1 ? ' unpriced call is' : ' unpriced calls are') + ' not in the projection.',
        )
      : null,
  );
}

/** Cost per successful task per UTC day (priced tasks only): is each success getting dearer? */
function renderTrend(rows) {
  const withValue = rows.filter((d) => d.costPerSuccessfulTask !== null);
  const unpriced = rows.reduce((a, d) => a + d.unpricedTasks, 0);
  $('#trend-hint').textContent = rows.length
    ? count(rows.length) + (rows.length === 1 ? ' day' : ' days') + (unpriced ? ' · ' + count(unpriced) + ' tasks with an unpriced call left out' : '')
    : '';
  if (!rows.length) return $('#trend').replaceChildren(none('No tasks in this window.'));
  const max = maxPico(withValue, (d) => d.costPerSuccessfulTask);
  const labelEvery = Math.max(1, Math.ceil(rows.length / 10));
  $('#trend').replaceChildren(
    h(
      'div',
      { class: 'tcols', role: 'img', 'aria-label': 'Cost per successful task by day' },
      rows.map((d, i) =>
        h(
          'div',
          {
            class: 'tcol' + (d.costPerSuccessfulTask === null ? ' no-success' : ''),
            data: { day: d.day },
            title:
              d.day +
              ': ' +
              (d.costPerSuccessfulTask === null ? 'no priced task succeeded' : exact(d.costPerSuccessfulTask) + ' per success') +
              ' · ' +
              count(d.successfulTasks) +
              ' of ' +
              count(d.tasks) +
              ' tasks succeeded · ' +
              money(d.cost) +
              ' priced cost',
          },
          h('span', { class: 'tval' }, rows.length <= 14 || i % labelEvery === 0 ? money(d.costPerSuccessfulTask) : ''),
          h(
            'div',
            { class: 'tbar' },
            h('div', {
              class: 'fill',
              style: { height: (d.costPerSuccessfulTask === null ? 0 : fraction(parsePico(d.costPerSuccessfulTask), max) * 100).toFixed(2) + '%' },
            }),
          ),
          h('span', { class: 'tday' }, i % labelEvery === 0 ? d.day.slice(5) : ''),
        ),
      ),
    ),
  );
}

/** The any-dimension table (`spendtrace report --by agent,task,model`): `/api/costs?by=...`, loaded on its own. */
async function loadBreakdown(since) {
  const by = state.dims.join(',');
  for (const b of document.querySelectorAll('#dims button')) b.setAttribute('aria-pressed', String(state.dims.includes(b.dataset.dim)));
  const q = windowQuery(since);
  q.set('dimensions', by); // the dimension table even for one dimension (`by=agent` is the per-agent report)
  let result;
  try {
    const res = await fetch('/api/costs?' + q, { headers: { accept: 'application/json' } });
    const body = await res.json().catch(() => ({ error: 'HTTP ' + res.status }));
    result = res.ok ? body : { error: body.error || 'HTTP ' + res.status };
  } catch (err) {
    result = { error: String(err && err.message ? err.message : err) };
  }
  if (by !== state.dims.join(',') || since !== state.since) return; // a newer choice replaced this one
  state.breakdown = result;
  renderBreakdown(result);
  app.dataset.breakdown = since + ':' + by;
}

function renderBreakdown(b) {
  const table = $('#breakdown');
  const more = $('#breakdown-more');
  if (b.error || !Array.isArray(b.rows) || !Array.isArray(b.dimensions)) {
    $('#breakdown-hint').textContent = '';
    more.hidden = true;
    table.tHead.replaceChildren();
    return table.tBodies[0].replaceChildren(h('tr', {}, h('td', { class: 'none' }, 'Breakdown unavailable: ' + (b.error || 'no rows'))));
  }
  const dims = b.dimensions;
  const rows = b.rows;
  // Margin only where every dimension is one a task has a single value of, and some task recorded a charge.
  const margins = rows.some((r) => r.chargedTasks > 0);
  const total = rows.reduce((a, r) => a + parsePico(r.cost), 0n);
  const unpriced = rows.reduce((a, r) => a + r.unpricedCalls, 0);
  $('#breakdown-hint').textContent =
    count(rows.length) +
    (rows.length === 1 ? ' row' : ' rows') +
    ' · ' +
    moneyPico(total) +
    (unpriced ? ' · ' + count(unpriced) + (unpriced === 1 ? ' unpriced call' : ' unpriced calls') + ', not in totals' : '');
  const head = [
    ...dims.map((d) => h('th', { data: { col: d } }, d)),
    h('th', { class: 'n', title: 'LLM calls' }, 'Calls'),
    h('th', { class: 'n', title: 'HTTP attempts the SDKs made: calls + retries' }, 'Attempts'),
    h('th', { class: 'n' }, 'Tool calls'),
    h('th', { class: 'n' }, 'Avg in'),
    h('th', { class: 'n' }, 'Avg out'),
    h('th', { class: 'n' }, 'Cost'),
    h('th', { class: 'n' }, 'Share'),
    margins ? h('th', { class: 'n', title: 'what the app charged for these tasks (recordTaskCharge)' }, 'Charged') : null,
    margins ? h('th', { class: 'n', title: 'charged − the cost of the tasks that recorded a charge' }, 'Margin') : null,
  ];
  table.tHead.replaceChildren(h('tr', {}, head));
  const shown = state.allBreakdown ? rows.slice(0, 500) : rows.slice(0, TOP_BREAKDOWN);
  const cols = head.filter(Boolean).length;
  table.tBodies[0].replaceChildren(
    ...(shown.length
      ? shown.map((r) =>
          h(
            'tr',
            { data: { key: dims.map((d) => r.key[d] || '').join('|') } },
            dims.map((d) => h('td', { class: 'dim', data: { col: d }, title: r.key[d] || '' }, r.key[d] || '—')),
            h('td', { class: 'n', data: { col: 'calls' } }, count(r.calls)),
            h('td', { class: 'n', data: { col: 'attempts' } }, count(r.attempts)),
            h('td', { class: 'n', data: { col: 'toolCalls' } }, count(r.toolCalls)),
            h('td', { class: 'n', data: { col: 'avgIn' } }, count(r.avgInputTokens)),
            h('td', { class: 'n', data: { col: 'avgOut' } }, count(r.avgOutputTokens)),
            h(
              'td',
              { class: 'n cost' + (r.unpricedCalls ? ' is-unpriced' : ''), data: { col: 'cost' }, title: exact(r.cost) },
              costText(r.cost, r.unpricedCalls),
            ),
            h('td', { class: 'n', data: { col: 'share' } }, percent(r.share)),
            margins
              ? h(
                  'td',
                  { class: 'n', data: { col: 'charged' }, title: r.chargedTasks ? count(r.chargedTasks) + ' tasks recorded a charge' : undefined },
                  r.chargedTasks ? money(r.charged) : '—',
                )
              : null,
            margins ? marginCell(r) : null,
          ),
        )
      : [h('tr', {}, h('td', { colspan: String(cols), class: 'none' }, 'No spend in this window.'))]),
  );
  more.hidden = rows.length <= TOP_BREAKDOWN;
  more.textContent = state.allBreakdown ? 'Show the top ' + TOP_BREAKDOWN + ' only' : 'Show all ' + count(rows.length) + ' rows';
}

function marginCell(r) {
  if (!r.chargedTasks) return h('td', { class: 'n margin', data: { col: 'margin' } }, '—');
  if (r.margin === null)
    return h(
      'td',
      { class: 'n margin', data: { col: 'margin' }, title: 'a charged task has an unpriced call: its cost, so the margin, is unknown' },
      'unpriced',
    );
  const neg = parsePico(r.margin) < 0n;
  return h(
    'td',
    { class: 'n margin' + (neg ? ' negative' : ''), data: { col: 'margin' }, title: exact(r.margin) + ' on ' + count(r.chargedTasks) + ' charged tasks' },
    money(r.margin) + ' (' + percent(r.marginRate) + ')',
  );
}

/** $/h now, tasks running, the day and the month projected: what a cost ticker shows. */
function renderTicker(r) {
  const t = r.ticker;
  const p = r.projection;
  const item = (key, label, value, sub, title) =>
    h(
      'div',
      { class: 'tick', data: { tick: key } },
      h('span', { class: 'label' }, label),
      h('span', { class: 'value', title }, value),
      sub ? h('span', { class: 'sub' }, sub) : null,
    );
  $('#ticker').replaceChildren(
    item(
      'per-hour',
      'Now',
      money(t.costLastHour) + '/h',
      'spent in the last 60 min' + (t.unpricedCallsLastHour ? ' + ' + count(t.unpricedCallsLastHour) + ' unpriced' : ''),
      exact(t.costLastHour),
    ),
    item('active', 'Active tasks', count(t.activeTasks), 'spans in the last 5 min, not finished'),
    item('day', 'Projected today', money(t.projectedDay), money(t.costToday) + ' so far (UTC day)', exact(t.projectedDay)),
    item(
      'month',
      'Projected ' + p.month,
      money(p.projectedMonth),
      p.days.length ? money(p.range.low) + ' – ' + money(p.range.high) : 'no spend in 7 days',
      p.method,
    ),
  );
}

/** Priced tasks' costs in 20 bins, with the P50 / P90 / P99 the API computed drawn as lines. */
function renderHistogram(r) {
  const priced = r.byTask.filter((t) => !t.unpricedCalls);
  const { max, bins } = costHistogram(
    priced.map((t) => parsePico(t.cost)),
    20,
  );
  const top = bins.reduce((m, b) => Math.max(m, b.count), 0);
  const p = r.summary.costPerTask;
  const left = r.summary.unpricedTasks;
  $('#hist-hint').textContent =
    count(priced.length) + (priced.length === 1 ? ' priced task' : ' priced tasks') + (left ? ' · ' + count(left) + ' with an unpriced call left out' : '');
  if (!bins.length || !p) return $('#hist').replaceChildren(none('No priced tasks in this window.'));
  const lines = ['p50', 'p90', 'p99'].map((k) => {
    const at = max > 0n ? fraction(parsePico(p[k]), max) : 0;
    // Labels near the right edge sit left of their line, so they stay inside the panel.
    return h(
      'div',
      { class: 'pline ' + k + (at > 0.75 ? ' flip' : ''), data: { pct: k }, style: { left: (at * 100).toFixed(2) + '%' }, title: k + ' ' + exact(p[k]) },
      h('span', {}, k.toUpperCase() + ' ' + money(p[k])),
    );
  });
  $('#hist').replaceChildren(
    h(
      'div',
      {
        class: 'hbars',
        role: 'img',
        'aria-label': 'Cost per task histogram: ' + count(priced.length) + ' tasks, p50 ' + money(p.p50) + ', p90 ' + money(p.p90) + ', p99 ' + money(p.p99),
      },
      bins.map((b) =>
        h(
          'div',
          {
            class: 'hbin',
            title: moneyPico(b.lo) + ' – ' + moneyPico(b.hi) + ': ' + count(b.count) + (b.count === 1 ? ' task' : ' tasks'),
            data: { count: String(b.count) },
          },
          h('div', { class: 'fill', style: { height: (top ? (b.count / top) * 100 : 0).toFixed(2) + '%' } }),
        ),
      ),
      lines,
    ),
    h('div', { class: 'haxis', 'aria-hidden': 'true' }, h('span', {}, '$0'), h('span', {}, moneyPico(max / 2n)), h('span', {}, moneyPico(max))),
  );
}

/** Opportunities and alerts load after the report, each on its own: a failure shows in its panel only. */
async function loadSidePanels(since) {
  const q = '?' + windowQuery(since);
  const get = async (path) => {
    const res = await fetch(path + q, { headers: { accept: 'application/json' } });
    const body = await res.json().catch(() => null);
    return { status: res.status, body };
  };
  await Promise.all([
    get('/api/insights').then(
      (r) => renderOpportunities(r),
      (err) => renderOpportunities({ status: 0, body: { error: String(err) } }),
    ),
    get('/api/alerts').then(
      (r) => renderAlerts(r),
      (err) => renderAlerts({ status: 0, body: { error: String(err) } }),
    ),
  ]);
  app.dataset.panels = since;
}

function renderOpportunities({ status, body }) {
  const el = $('#opportunities');
  if (status !== 200 || !body || !Array.isArray(body.findings)) {
    $('#opps-hint').textContent = '';
    return el.replaceChildren(h('p', { class: 'none' }, 'Insights unavailable: ' + ((body && body.error) || 'HTTP ' + status)));
  }
  $('#opps-hint').textContent = body.findings.length
    ? '~' + money(body.monthlySavings) + '/month in ' + count(body.findings.length) + (body.findings.length === 1 ? ' finding' : ' findings')
    : '';
  if (!body.findings.length) return el.replaceChildren(h('p', { class: 'none' }, 'Nothing to change found in this window.'));
  el.replaceChildren(
    ...body.findings.map((f, i) =>
      h(
        'details',
        { class: 'opp', data: { kind: f.kind }, open: i < 3 },
        h(
          'summary',
          {},
          h('span', { class: 'otitle' }, f.title),
          h('span', { class: 'saving', title: exact(f.monthlySaving) + ' per month' }, '~' + money(f.monthlySaving) + '/mo'),
        ),
        h(
          'div',
          { class: 'subject' },
          h('span', { class: 'badge kind' }, f.kind),
          ' ',
          Object.entries(f.subject)
            .filter(([, v]) => v)
            .map(([k, v]) => k + ' ' + v)
            .join(' · '),
        ),
        h(
          'ul',
          {},
          f.evidence.map((e) => h('li', {}, e)),
        ),
        h('p', { class: 'assume' }, 'Assumes ' + f.assumption + '. ' + body.scale + '.'),
      ),
    ),
  );
}

/**
 * Firing alerts, from `/api/alerts` when the service evaluates alert rules: `{ firing: [...] }` (or
 * an array), each with a title (`title`, `rule` or `name`) and a `message` / `summary`. With no
 * rules (`configured: false`) or no route (404) the panel says no alerts are configured.
 */
function renderAlerts({ status, body }) {
  const el = $('#alerts');
  if (status === 404 || (status === 200 && body && body.configured === false)) {
    $('#alerts-hint').textContent = '';
    return el.replaceChildren(h('p', { class: 'none', data: { alerts: 'unconfigured' } }, 'No alerts configured.'));
  }
  const firing = Array.isArray(body) ? body : body && Array.isArray(body.firing) ? body.firing : null;
  if (status !== 200 || !firing) return el.replaceChildren(h('p', { class: 'none' }, 'Alerts unavailable: ' + ((body && body.error) || 'HTTP ' + status)));
  $('#alerts-hint').textContent = firing.length ? count(firing.length) + ' firing' : '';
  if (!firing.length) return el.replaceChildren(h('p', { class: 'none', data: { alerts: 'quiet' } }, 'No alert is firing.'));
  el.replaceChildren(
    ...firing.map((a) =>
      h(
        'div',
        { class: 'alert-row' + (a.severity ? ' ' + a.severity : ''), data: { incident: a.id || '' } },
        a.severity ? h('span', { class: 'badge ' + (a.severity === 'critical' ? 'failure' : 'unknown') }, a.severity) : null,
        a.severity ? ' ' : null,
        h('strong', {}, String(a.title || a.rule || a.name || 'alert')),
        a.message || a.summary ? h('div', { class: 'sub' }, String(a.message || a.summary)) : null,
        a.since || a.startedAt ? h('div', { class: 'sub' }, 'since ' + utc(a.since || a.startedAt)) : null,
      ),
    ),
  );
}

function renderTime(rows, since) {
  const buckets = timeBuckets(rows, since, Date.now());
  const daily = buckets.length > 0 && buckets[0].step > 3_600_000;
  $('#time-title').textContent = daily ? 'Cost by day (UTC)' : 'Cost by hour (UTC)';
  const total = buckets.reduce((a, b) => a + b.pico, 0n);
  const max = buckets.reduce((m, b) => (b.pico > m ? b.pico : m), 0n);
  const peak = buckets.find((b) => b.pico === max && max > 0n);
  $('#time-hint').textContent = peak
    ? 'peak ' + moneyPico(max) + ' at ' + utc(peak.start, !daily) + ' · ' + count(buckets.length) + (daily ? ' days' : ' hours')
    : '';
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const cols = buckets.map((b) => {
    const label = daily ? utc(b.start, false) : utc(b.start);
    const tip =
      label +
      ' — ' +
      (b.pico > 0n || !b.unpricedCalls ? moneyPico(b.pico) : 'unpriced') +
      ' · ' +
      count(b.llmCalls) +
      ' LLM calls · ' +
      count(b.toolCalls) +
      ' tool calls' +
      (b.errors ? ' · ' + count(b.errors) + ' errors' : '') +
      (b.unpricedCalls ? ' · ' + count(b.unpricedCalls) + ' unpriced' : '');
    return h(
      'div',
      { class: 'col' + (b.pico > 0n ? ' has-cost' : ''), title: tip, data: { start: new Date(b.start).toISOString() } },
      b.unpricedCalls ? h('span', { class: 'flag', 'aria-hidden': 'true' }, '!') : null,
      h('div', { class: 'fill', style: { height: (fraction(b.pico, max) * 100).toFixed(2) + '%' } }),
    );
  });
  const labels = buckets.map((b, i) =>
    h('span', {}, i % every === 0 ? (daily ? utc(b.start, false).slice(5) : new Date(b.start).toISOString().slice(11, 16)) : ''),
  );
  $('#time').replaceChildren(
    h('div', { class: 'yaxis', 'aria-hidden': 'true' }, h('span', {}, moneyPico(max)), h('span', {}, moneyPico(max / 2n)), h('span', {}, '$0')),
    // Long spans (months of days) drop the gutters so every column keeps at least a pixel.
    h(
      'div',
      {
        class: 'cols',
        role: 'img',
        'aria-label': (daily ? 'Cost by day' : 'Cost by hour') + ', total ' + moneyPico(total),
        style: buckets.length > 120 ? { gap: '0' } : undefined,
      },
      cols,
    ),
    h('div', { class: 'xaxis', 'aria-hidden': 'true' }, labels),
  );
}

for (const b of document.querySelectorAll('[data-since]')) {
  b.addEventListener('click', () => {
    if (state.since === b.dataset.since && !state.inflight) return;
    state.since = b.dataset.since;
    state.allTasks = false;
    load();
  });
}
$('#refresh').addEventListener('click', () => load());
for (const th of document.querySelectorAll('#tasks th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    const key = th.dataset.sort;
    // A new column starts with the order people look for first: names A-Z, numbers largest first.
    state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: ['task', 'agent', 'outcome'].includes(key) ? 1 : -1 };
    if (state.report) renderTasks(state.report.byTask);
  });
}
for (const b of document.querySelectorAll('#dims button')) {
  b.addEventListener('click', () => {
    const d = b.dataset.dim;
    const next = state.dims.includes(d) ? state.dims.filter((x) => x !== d) : DIMENSIONS.filter((x) => x === d || state.dims.includes(x));
    if (!next.length) return; // at least one dimension
    state.dims = next;
    state.allBreakdown = false;
    const query = windowQuery(state.since);
    if (next.join(',') !== DEFAULT_DIMS.join(',')) query.set('by', next.join(','));
    history.replaceState(null, '', '?' + query);
    loadBreakdown(state.since);
  });
}
$('#breakdown-more').addEventListener('click', () => {
  state.allBreakdown = !state.allBreakdown;
  if (state.breakdown) renderBreakdown(state.breakdown);
});
$('#tasks-more').addEventListener('click', () => {
  state.allTasks = !state.allTasks;
  if (state.report) renderTasks(state.report.byTask);
});
// Keep a dashboard left open current, without piling requests up in a background tab.
setInterval(() => {
  if (document.visibilityState === 'visible' && !state.inflight) load();
}, REFRESH_MS);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && !state.inflight) load();
});
load();
