/**
 * Where messages go: the body each kind of webhook accepts, and delivery with retries.
 *
 *   slack    incoming webhook: `text` (the notification fallback) + Block Kit `blocks`
 *            (header <= 150 chars, section text <= 3000, <= 10 section fields of <= 2000)
 *   discord  execute webhook: `embeds` (title <= 256, description <= 4096, <= 25 fields of
 *            name <= 256 / value <= 1024, 6000 chars in all) with mentions disabled
 *   webhook  any endpoint: the incident as JSON (`spendtrace.alert.v1`)
 *
 * A 2xx is delivered. 408, 425, 429, 5xx and network errors are retried with exponential backoff,
 * honouring Retry-After (Slack, and Discord's `retry_after` body); other 4xx are permanent.
 */
import type { KnownBlock } from '@slack/types';
import type { RESTPostAPIWebhookWithTokenJSONBody } from 'discord-api-types/v10';
import type { AlertsConfig, SinkConfig } from './rules.ts';
import type { Incident, IncidentEvent } from './incidents.ts';

export type MessageEvent = IncidentEvent | 'test';

/** What a message is about: an incident as stored, minus its delivery bookkeeping. */
export type AlertSubject = Omit<Incident, 'notifications' | 'missed'>;

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const label = (e: MessageEvent) => (e === 'firing' ? 'FIRING' : e === 'resolved' ? 'RESOLVED' : 'TEST');

function headline(event: MessageEvent, i: AlertSubject): string {
  return `[${label(event)}] ${i.title}`;
}

function detail(event: MessageEvent, i: AlertSubject): string {
  if (event === 'resolved') return `${i.summary}\nResolved at ${i.resolvedAt ?? new Date().toISOString()}; firing since ${i.startedAt}.`;
  if (event === 'test') return `${i.summary}\nThis is a test message from \`spendtrace alerts test\`; nothing is wrong.`;
  return i.summary;
}

const evidenceLines = (i: AlertSubject) => Object.entries(i.evidence).map(([k, v]) => [k, String(v)] as const);

/** Slack mrkdwn treats &, < and > as control characters; escape them in text from the data. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SlackBody {
  text: string;
  blocks: KnownBlock[];
}

export function slackBody(event: MessageEvent, i: AlertSubject): SlackBody {
  const emoji =
    event === 'firing' ? (i.severity === 'critical' ? ':rotating_light:' : ':warning:') : event === 'resolved' ? ':white_check_mark:' : ':test_tube:';
  const fields = evidenceLines(i)
    .slice(0, 10)
    .map(([k, v]) => ({ type: 'mrkdwn' as const, text: cut(`*${k}*\n${slackEscape(v)}`, 2000) }));
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${headline(event, i)}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(`${emoji} ${slackEscape(detail(event, i))}`, 3000) } },
  ];
  if (fields.length) blocks.push({ type: 'section', fields });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: cut(slackEscape(`spendtrace · rule ${i.rule} (${i.kind}) · ${i.subject} · incident ${i.id}`), 3000) }],
  });
  return { text: cut(`${emoji} ${slackEscape(headline(event, i))}`, 3000), blocks };
}

const COLOR = { critical: 0xe01e5a, warning: 0xecb22e, resolved: 0x2eb67d, test: 0x36c5f0 } as const;

export function discordBody(event: MessageEvent, i: AlertSubject): RESTPostAPIWebhookWithTokenJSONBody {
  const fields = evidenceLines(i)
    .slice(0, 25)
    .map(([k, v]) => ({ name: cut(k, 256), value: cut(v || '—', 1024), inline: true }));
  return {
    username: 'spendtrace',
    // Agent, task and user names come from telemetry: never let them ping anyone.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(headline(event, i), 256),
        description: cut(detail(event, i), 2000),
        color: event === 'firing' ? COLOR[i.severity] : COLOR[event],
        fields,
        footer: { text: cut(`spendtrace · rule ${i.rule} (${i.kind}) · incident ${i.id}`, 256) },
        timestamp: event === 'resolved' && i.resolvedAt ? i.resolvedAt : i.lastSeenAt,
      },
    ],
  };
}

export interface WebhookBody {
  schema: 'spendtrace.alert.v1';
  event: MessageEvent;
  incident: AlertSubject;
}

export function webhookBody(event: MessageEvent, i: AlertSubject): WebhookBody {
  return { schema: 'spendtrace.alert.v1', event, incident: i };
}

export function bodyFor(sink: SinkConfig, event: MessageEvent, i: AlertSubject): unknown {
  switch (sink.type) {
    case 'slack':
      return slackBody(event, i);
    case 'discord':
      return discordBody(event, i);
    case 'webhook':
      return webhookBody(event, i);
  }
}

export type DeliveryResult =
  { ok: true; status: number; attempts: number } | { ok: false; status: number | undefined; error: string; attempts: number; retryable: boolean };

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Seconds to wait from Retry-After (delta-seconds or an HTTP date) or Discord's JSON `retry_after`. */
function retryAfterMs(res: Response, text: string): number | undefined {
  const h = res.headers.get('retry-after');
  if (h) {
    const s = Number(h);
    if (Number.isFinite(s) && s >= 0) return s * 1000;
    const at = Date.parse(h);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  try {
    const j = JSON.parse(text) as { retry_after?: unknown };
    if (typeof j.retry_after === 'number' && j.retry_after >= 0) return j.retry_after * 1000;
  } catch {
    // not JSON
  }
  return undefined;
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** POSTs `body` to the sink, retrying as the module comment says; never throws. */
export async function deliver(sink: SinkConfig, body: unknown, opts: AlertsConfig['delivery'], signal?: AbortSignal): Promise<DeliveryResult> {
  const payload = JSON.stringify(body);
  let last: DeliveryResult = { ok: false, status: undefined, error: 'not attempted', attempts: 0, retryable: true };
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    if (signal?.aborted) break;
    let wait: number | undefined;
    try {
      const res = await fetch(sink.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'spendtrace-alerts', ...sink.headers },
        body: payload,
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs),
        redirect: 'error',
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true, status: res.status, attempts: attempt };
      const retryable = RETRYABLE.has(res.status);
      last = { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, attempts: attempt, retryable };
      if (!retryable) return last;
      wait = retryAfterMs(res, text);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      last = {
        ok: false,
        status: undefined,
        error: e.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : (e.cause?.code ?? e.message),
        attempts: attempt,
        retryable: true,
      };
    }
    if (attempt < opts.attempts) {
      const backoff = opts.initialBackoffMs * 2 ** (attempt - 1);
      await abortableSleep(Math.min(opts.maxBackoffMs, wait ?? backoff), signal);
    }
  }
  return last;
}
