/**
 * The first step of every instrumented LLM call (ARCHITECTURE.md): in a task with a budget, decide
 * before any request is sent whether the call may go.
 *
 * `worst-case` tasks (the default, budget.ts says why) compare the running cost, plus the worst
 * case of the task's calls still in flight, plus this call's worst case with the budget. The worst
 * case is the call's input tokens counted locally plus its output cap (`max_tokens`,
 * `max_output_tokens`, ...) priced at the model's rates. Counting is done in two steps so that
 * most calls never tokenize: the UTF-8 byte count is a hard upper bound of any byte-level BPE's
 * token count, and only when that bound does not fit is the text counted with gpt-tokenizer. A
 * call that goes ahead reserves its worst case until it ends (Promise.all fan-outs cannot all
 * pass on the same remainder).
 *
 * What it cannot see: media inputs (images, audio, files) are not counted, and a call with no
 * output cap is checked on its input alone. A model the catalogue cannot price is let through
 * (one diag warning per model): refusing every call to a custom model would break the app.
 */
import { picoToUsd, type Pico, type Pricer } from '@spendtrace/semconv';
import type { DiagLogger } from '@opentelemetry/api';
import { applyBudgetMode, checkBudget, type TaskState } from './task-context.ts';
import { countTokensSync } from './token-estimate.ts';

/** A request as the budget check sees it: the text the model reads and what it may write. */
export interface BudgetRequest {
  /** The prompt's text (messages, system, tool definitions as JSON); media is not counted. */
  text: string;
  /** Tokens the API adds per request / per message beyond the text (chat framing). */
  overheadTokens?: number;
  /** The output cap times the number of choices asked for; undefined: no cap was set. */
  maxOutputTokens: number | undefined;
}

/** Reads one API's request for the check (called only inside a budgeted task). */
export type DescribeRequest = (body: any) => BudgetRequest;

export interface BudgetHost {
  readonly pricer: Pricer;
  readonly diag: DiagLogger;
}

/** A call's worst case held against its task (and the enclosing ones) until it ends. */
export class Reservation {
  private task: TaskState | undefined;
  readonly pico: Pico;
  constructor(task: TaskState, pico: Pico) {
    this.task = task;
    this.pico = pico;
    for (let t: TaskState | undefined = task; t; t = t.parent) t.reservedPico += pico;
  }
  /** Idempotent: the call's end, however it ends. */
  release(): void {
    const task = this.task;
    if (!task) return;
    this.task = undefined;
    for (let t: TaskState | undefined = task; t; t = t.parent) t.reservedPico -= this.pico;
  }
}

/** The gate's answer: an error to fail the call with, or a go-ahead with (maybe) a reservation. */
export interface GateResult {
  refused?: Error;
  reservation?: Reservation;
}
const GO: GateResult = Object.freeze({});

const unpricedWarned = new Set<string>();

/**
 * Call only when `task.budgetPico !== undefined` somewhere in the chain (the call-site template
 * checks `task` first, so calls outside budgeted tasks pay nothing here).
 */
export function budgetGate(
  host: BudgetHost,
  task: TaskState,
  provider: string,
  model: string | undefined,
  body: unknown,
  describe: DescribeRequest | undefined,
): GateResult {
  const spent = checkBudget(task, model);
  if (spent) return { refused: spent };
  let worstCase = false;
  // A task already over its budget was decided by its mode above (a 'warn' or a callback let the call through).
  for (let t: TaskState | undefined = task; t; t = t.parent) if (checksWorstCase(t)) worstCase = true;
  if (!worstCase || !describe) return GO;

  const req = describe(body);
  const out = req.maxOutputTokens && req.maxOutputTokens > 0 ? req.maxOutputTokens : 0;
  const overhead = req.overheadTokens ?? 0;
  // Step 1: bytes as tokens, an upper bound no tokenizer exceeds.
  const bound = worstPico(host.pricer, provider, model, Buffer.byteLength(req.text, 'utf8') + overhead, out);
  if (bound === undefined) {
    const key = `${provider}/${model}`;
    if (!unpricedWarned.has(key) && unpricedWarned.size < 1000) {
      unpricedWarned.add(key);
      host.diag.warn(`spendtrace: ${model ?? 'a model'} (${provider}) has no known price; budget calls to it are checked on the running cost only`);
    }
    return GO;
  }
  if (!crosses(task, bound)) return { reservation: new Reservation(task, bound) };
  // Step 2: the text counted (gpt-tokenizer; its tables load on the first count).
  const worst = worstPico(host.pricer, provider, model, countTokensSync(model, req.text) + overhead, out) ?? bound;
  for (let t: TaskState | undefined = task; t; t = t.parent) {
    if (!checksWorstCase(t) || t.costPico + t.reservedPico + worst <= t.budgetPico!) continue;
    const refused = applyBudgetMode(t, {
      taskId: t.id,
      taskName: t.name,
      budgetUsd: t.budgetUsd!,
      costUsd: t.costUsd,
      model,
      reason: 'worst-case',
      estimateUsd: picoToUsd(worst),
      inFlightUsd: picoToUsd(t.reservedPico),
    });
    if (refused) return { refused };
  }
  return { reservation: new Reservation(task, worst) };
}

function checksWorstCase(t: TaskState): boolean {
  return t.budgetPico !== undefined && t.budgetCheck === 'worst-case' && !t.exceeded;
}

function crosses(task: TaskState, pico: Pico): boolean {
  for (let t: TaskState | undefined = task; t; t = t.parent) {
    if (checksWorstCase(t) && t.costPico + t.reservedPico + pico > t.budgetPico!) return true;
  }
  return false;
}

function worstPico(pricer: Pricer, provider: string, model: string | undefined, inputTokens: number, outputTokens: number): Pico | undefined {
  return pricer.price(provider, model, { inputTokens, outputTokens })?.cost.total;
}

// --- Reading requests: the text the model reads, without media ---------------------------------

/** Keys whose values are media or references, never text the model reads as tokens of text. */
const MEDIA_KEYS = new Set([
  'image_url',
  'image',
  'input_image',
  'input_audio',
  'audio',
  'file',
  'file_data',
  'file_id',
  'file_url',
  'fileData',
  'inlineData',
  'inline_data',
  'data',
  'b64_json',
  'url',
  'source',
]);
/** Keys that name a part's kind, not its content. */
const SKIP_KEYS = new Set(['type', 'role', 'cache_control', 'id', 'tool_call_id', 'tool_use_id', 'call_id', 'mimeType', 'media_type', 'detail']);

/** Every string the model reads in `value` (message contents, tool-call arguments), joined. */
export function promptText(...values: unknown[]): string {
  const out: string[] = [];
  for (const v of values) collect(v, out, 0);
  return out.join('\n');
}

function collect(v: unknown, out: string[], depth: number): void {
  if (typeof v === 'string') {
    if (v && !v.startsWith('data:')) out.push(v);
    return;
  }
  if (!v || typeof v !== 'object' || depth > 32) return;
  if (Array.isArray(v)) {
    for (const x of v) collect(x, out, depth + 1);
    return;
  }
  for (const k in v as Record<string, unknown>) {
    if (MEDIA_KEYS.has(k) || SKIP_KEYS.has(k)) continue;
    collect((v as Record<string, unknown>)[k], out, depth + 1);
  }
}

/** Tool definitions as the model sees them: their JSON is a close proxy for the formatted text. */
export function toolsText(tools: unknown): string {
  return Array.isArray(tools) && tools.length ? JSON.stringify(tools) : '';
}

/** A positive integer cap, or undefined. */
export function cap(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined;
}

/** `cap × choices` when both are known. */
export function capTimes(v: unknown, choices: unknown): number | undefined {
  const c = cap(v);
  if (c === undefined) return undefined;
  const n = cap(choices) ?? 1;
  return c * n;
}
