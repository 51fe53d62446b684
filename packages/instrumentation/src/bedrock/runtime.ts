/**
 * `@aws-sdk/client-bedrock-runtime`: `Converse`, `ConverseStream`, `InvokeModel` and
 * `InvokeModelWithResponseStream` sent through `BedrockRuntimeClient.send` (the `BedrockRuntime`
 * aggregate's methods call it too), as `chat {modelId}` spans with `gen_ai.provider.name`
 * `aws.bedrock`, through the call-site template (call-site.ts). InvokeModel bodies are the model
 * family's own JSON: Anthropic (the Messages API), Meta (Llama `generation`) and Amazon (Nova);
 * a streamed InvokeModel's last chunk carries `amazon-bedrock-invocationMetrics`, the counts
 * Bedrock bills, for families whose events say less. The SDK's own retries (in its middleware)
 * are not counted.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { cap, promptText, toolsText, type BudgetRequest } from '../budget-gate.ts';
import { instrumentedMethod, type CallSite, type CallTarget } from '../call-site.ts';
import { InferenceCall, startAttributes, startCallSpan, type CallInit, type ServerAddress } from '../inference-call.ts';
import type { ChatMessage } from '../internal-types.ts';
import { serverAddress, setDefined, type GenAIHost } from '../provider-host.ts';
import { requestHash } from '../request-hash.ts';
import { errorType } from '../task-context.ts';
import { estimateOutputTokens } from '../token-estimate.ts';

type Operation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-stream';

/** The command classes of one SDK copy, to tell a command's operation without reading its name. */
/** A command class of the SDK (only used with `instanceof`). */
export type CommandClass = abstract new (...args: never[]) => object;

export interface CommandClasses {
  converse?: CommandClass;
  converseStream?: CommandClass;
  invoke?: CommandClass;
  invokeStream?: CommandClass;
}

interface BedrockClientLike {
  config?: { endpoint?: unknown; region?: unknown };
}
interface CommandLike {
  input?: any;
}
interface BedrockTarget extends CallTarget {
  readonly operation: Operation;
  readonly input: any;
  /** InvokeModel: the request body parsed (the family's own JSON). */
  readonly body: any;
}

type Family = 'anthropic' | 'meta' | 'amazon' | 'other';
/** The model family of a model id, inference profile (`us.anthropic...`) or ARN. */
export function familyOf(modelId: string | undefined): Family {
  const id = (modelId ?? '').replace(/^arn:.*?\//, '').replace(/^(?:us|eu|apac|jp|au|ca|us-gov|global)\./, '');
  if (id.startsWith('anthropic.')) return 'anthropic';
  if (id.startsWith('meta.')) return 'meta';
  if (id.startsWith('amazon.')) return 'amazon';
  return 'other';
}

const decoder = new TextDecoder();
function jsonOf(bytes: unknown): any {
  if (typeof bytes === 'string') return JSON.parse(bytes);
  if (bytes instanceof Uint8Array) return JSON.parse(decoder.decode(bytes));
  return undefined;
}

/** The prompt and the output cap, for the budget gate, from a Converse input or an InvokeModel body. */
function budgetRequest(t: BedrockTarget): BudgetRequest {
  if (t.operation === 'converse' || t.operation === 'converse-stream') {
    const i = t.input;
    return { text: promptText(i?.system, i?.messages) + toolsText(i?.toolConfig?.tools), maxOutputTokens: cap(i?.inferenceConfig?.maxTokens) };
  }
  const b = t.body;
  return {
    text: promptText(b?.system, b?.messages, b?.prompt, b?.inputText) + toolsText(b?.tools),
    maxOutputTokens: cap(
      b?.max_tokens ?? b?.max_gen_len ?? b?.inferenceConfig?.max_new_tokens ?? b?.inferenceConfig?.maxTokens ?? b?.textGenerationConfig?.maxTokenCount,
    ),
  };
}

/** `spendtrace.request.hash`: model, system and messages (or the prompt). */
function bedrockRequestHash(t: BedrockTarget): string {
  const src = t.operation === 'converse' || t.operation === 'converse-stream' ? t.input : t.body;
  const messages: ChatMessage[] = [];
  if (src?.system !== undefined) messages.push({ role: 'system', content: JSON.stringify(src.system) });
  if (Array.isArray(src?.messages))
    for (const m of src.messages) messages.push({ role: m?.role, content: typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content) });
  if (typeof src?.prompt === 'string') messages.push({ role: 'user', content: src.prompt });
  return requestHash(t.model, messages);
}

/** Converse usage (and Nova's): `inputTokens` excludes cache reads and writes, so they are added. */
function converseUsage(u: any): Usage {
  const cacheRead = u?.cacheReadInputTokens ?? u?.cacheReadInputTokenCount ?? 0;
  const cacheWrite = u?.cacheWriteInputTokens ?? u?.cacheWriteInputTokenCount ?? 0;
  const usage: Usage = { inputTokens: (u?.inputTokens ?? 0) + cacheRead + cacheWrite, outputTokens: u?.outputTokens ?? 0 };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  return A.clampUsage(usage);
}

/** The Anthropic Messages usage as Bedrock returns it: `input_tokens` excludes cache reads and writes. */
function anthropicUsage(u: any): Usage {
  const cacheRead = u?.cache_read_input_tokens ?? 0;
  const cacheWrite = u?.cache_creation_input_tokens ?? 0;
  const usage: Usage = { inputTokens: (u?.input_tokens ?? 0) + cacheRead + cacheWrite, outputTokens: u?.output_tokens ?? 0 };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  return A.clampUsage(usage);
}

/** One Bedrock Runtime request and its span. */
class BedrockCall extends InferenceCall {
  declare readonly host: GenAIHost;
  readonly operation: Operation;
  readonly family: Family;
  readonly target: BedrockTarget;
  usage: Usage | undefined;
  stop: string | undefined;
  /** A stream's text, for local counting when it ends before its usage. */
  text = '';

  readonly client: BedrockClientLike;

  constructor(init: CallInit & { host: GenAIHost }, target: BedrockTarget, client: BedrockClientLike) {
    super(init);
    this.client = client;
    this.operation = target.operation;
    this.family = familyOf(target.model);
    this.target = target;
  }

  readonly resolved = (output: any): unknown => {
    try {
      this.responseId = output?.$metadata?.requestId;
      switch (this.operation) {
        case 'converse':
          if (output?.usage) this.usage = converseUsage(output.usage);
          this.stop = output?.stopReason;
          this.finish();
          break;
        case 'invoke':
          this.readInvokeBody(jsonOf(output?.body));
          this.finish();
          break;
        case 'converse-stream':
          if (output?.stream) output.stream = observed(output.stream, this, (e) => this.readConverseEvent(e));
          else this.finish();
          break;
        case 'invoke-stream':
          if (output?.body) output.body = observed(output.body, this, (e) => e?.chunk?.bytes && this.readInvokeChunk(jsonOf(e.chunk.bytes)));
          else this.finish();
          break;
      }
    } catch (err) {
      this.host.diag.error('could not record a Bedrock response', err);
      this.finish();
    }
    return output;
  };

  readonly rejected = (err: unknown): never => {
    this.finish(err);
    throw err;
  };

  private readInvokeBody(b: any): void {
    if (!b) return;
    if (this.family === 'anthropic') {
      this.responseModel = b.model;
      this.responseId = b.id ?? this.responseId;
      this.stop = b.stop_reason ?? undefined;
      if (b.usage) this.usage = anthropicUsage(b.usage);
    } else if (this.family === 'meta') {
      this.stop = b.stop_reason ?? undefined;
      if (typeof b.prompt_token_count === 'number')
        this.usage = A.clampUsage({ inputTokens: b.prompt_token_count, outputTokens: b.generation_token_count ?? 0 });
    } else if (b.usage) {
      this.stop = b.stopReason;
      this.usage = converseUsage(b.usage);
    } else if (Array.isArray(b.results)) {
      // Titan text: inputTextTokenCount + results[].tokenCount.
      this.stop = b.results[0]?.completionReason;
      this.usage = A.clampUsage({
        inputTokens: b.inputTextTokenCount ?? 0,
        outputTokens: b.results.reduce((n: number, r: any) => n + (r?.tokenCount ?? 0), 0),
      });
    }
  }

  private readConverseEvent(e: any): void {
    const delta = e?.contentBlockDelta?.delta;
    if (delta) {
      if (!this.firstChunkAt) this.firstChunkAt = performance.now();
      const piece = delta.text ?? delta.reasoningContent?.text ?? delta.toolUse?.input;
      if (typeof piece === 'string') this.text += piece;
    } else if (e?.messageStop) this.stop = e.messageStop.stopReason;
    else if (e?.metadata?.usage) this.usage = converseUsage(e.metadata.usage);
  }

  /** A streamed InvokeModel chunk: the family's event, and on the last one the counts Bedrock bills. */
  private readInvokeChunk(c: any): void {
    if (!c) return;
    if (!this.firstChunkAt) this.firstChunkAt = performance.now();
    if (this.family === 'anthropic') {
      if (c.type === 'message_start') {
        this.responseModel = c.message?.model;
        this.responseId = c.message?.id ?? this.responseId;
        this.anthropicStart = c.message?.usage;
      } else if (c.type === 'content_block_delta') {
        const piece = c.delta?.text ?? c.delta?.thinking ?? c.delta?.partial_json;
        if (typeof piece === 'string') this.text += piece;
      } else if (c.type === 'message_delta') {
        if (c.delta?.stop_reason) this.stop = c.delta.stop_reason;
        this.usage = anthropicUsage({ ...this.anthropicStart, ...c.usage });
      }
    } else if (this.family === 'meta') {
      if (typeof c.generation === 'string') this.text += c.generation;
      if (c.stop_reason) this.stop = c.stop_reason;
    } else {
      const piece = c.contentBlockDelta?.delta?.text;
      if (typeof piece === 'string') this.text += piece;
      if (c.messageStop) this.stop = c.messageStop.stopReason;
      if (c.metadata?.usage) this.usage = converseUsage(c.metadata.usage);
    }
    const m = c['amazon-bedrock-invocationMetrics'];
    // Bedrock's own counts; the family's (with cache detail) win when it gave them.
    if (m && !this.usage) this.usage = A.clampUsage({ inputTokens: m.inputTokenCount ?? 0, outputTokens: m.outputTokenCount ?? 0 });
  }
  private anthropicStart: Record<string, unknown> | undefined;

  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const end = this.attrs;
    try {
      this.attribution(end);
      if (this.startAttributes[A.ATTR_SERVER_ADDRESS] === undefined) {
        const server = serverOf(this.client);
        if (server?.address !== undefined) {
          end[A.ATTR_SERVER_ADDRESS] = server.address;
          end[A.ATTR_SERVER_PORT] = server.port;
        }
      }
      requestAttributes(this.target, end);
      this.response(end, this.stop ? [this.stop] : undefined);
      if (err !== undefined) this.failed(end, err, bedrockErrorType(err));
      if (this.usage) {
        this.price(end, this.usage, undefined, this.responseModel);
        return this.close(end);
      }
      if (!this.text) return this.close(end);
      // A stream that ended before its counts (the SDK ends the iteration quietly when the
      // connection drops): the prompt and the output that arrived, counted locally.
      const model = this.requestModel;
      const counted = Promise.all([estimateOutputTokens(model, budgetRequest(this.target).text), estimateOutputTokens(model, this.text)]);
      this.closeEstimated(
        end,
        counted.then(([inputTokens, outputTokens]) => ({ inputTokens, outputTokens })),
        this.responseModel,
      );
    } catch (e) {
      this.host.diag.error('bedrock span: finishing failed', e);
      this.close(end);
    }
  }
}

/** `error.type`: the AWS exception name (ThrottlingException, ValidationException, ...). */
function bedrockErrorType(err: unknown): string {
  const name = (err as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name && name !== 'Error' ? name : errorType(err);
}

function requestAttributes(t: BedrockTarget, attrs: Attributes): void {
  if (t.operation === 'converse' || t.operation === 'converse-stream') {
    const c = t.input?.inferenceConfig;
    setDefined(attrs, [
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, c?.maxTokens],
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, c?.temperature],
      [A.ATTR_GEN_AI_REQUEST_TOP_P, c?.topP],
      [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, c?.stopSequences],
    ]);
  } else {
    const b = t.body;
    setDefined(attrs, [
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, b?.max_tokens ?? b?.max_gen_len ?? b?.inferenceConfig?.max_new_tokens],
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, b?.temperature ?? b?.inferenceConfig?.temperature],
      [A.ATTR_GEN_AI_REQUEST_TOP_P, b?.top_p ?? b?.inferenceConfig?.top_p],
    ]);
  }
  if (t.operation === 'converse-stream' || t.operation === 'invoke-stream') attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
}

/** The SDK's event iterable, observed in place: the app iterates the same events. */
function observed(source: AsyncIterable<unknown>, call: BedrockCall, read: (e: any) => void): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        next(...args: [] | [unknown]) {
          return it.next(...args).then(
            (r) => {
              if (r.done) call.finish();
              else {
                try {
                  read(r.value);
                } catch (err) {
                  call.host.diag.error('could not read a Bedrock stream event', err);
                }
              }
              return r;
            },
            (err) => {
              call.finish(err);
              throw err;
            },
          );
        },
        return(value?: unknown) {
          call.finish();
          return it.return ? it.return(value) : Promise.resolve({ done: true as const, value });
        },
        throw(err?: unknown) {
          call.finish(err);
          return it.throw ? it.throw(err) : Promise.reject(err);
        },
      };
    },
  };
}

/**
 * `server.address` / `server.port` of a client. Its config holds the endpoint and region as async
 * providers, so they are resolved once per client in the background: a client's first call may
 * start without them and gets them at its end (finish()).
 */
const servers = new WeakMap<object, ServerAddress | Promise<void>>();
function serverOf(client: BedrockClientLike | undefined): ServerAddress | undefined {
  if (!client) return undefined;
  const known = servers.get(client);
  if (known && !(known instanceof Promise)) return known;
  if (!known) {
    const config = client.config as { endpoint?: unknown; region?: unknown; isCustomEndpoint?: boolean } | undefined;
    const resolve = async (): Promise<void> => {
      const value = async (v: unknown) => (typeof v === 'function' ? await (v as () => unknown)() : v);
      const e = config?.isCustomEndpoint
        ? ((await value(config.endpoint)) as { protocol?: string; hostname?: string; port?: number } | string | undefined)
        : undefined;
      const url =
        typeof e === 'string'
          ? e
          : e?.hostname
            ? `${e.protocol ?? 'https:'}//${e.hostname}${e.port ? `:${e.port}` : ''}`
            : `https://bedrock-runtime.${String((await value(config?.region)) ?? 'us-east-1')}.amazonaws.com`;
      servers.set(client, serverAddress(url));
    };
    servers.set(
      client,
      resolve().catch(() => void servers.set(client, {})),
    );
  }
  return undefined;
}

/** `BedrockRuntimeClient.prototype.send` through the call-site template; other commands pass through. */
export function patchedSend(host: GenAIHost, classes: CommandClasses) {
  const site: CallSite<BedrockClientLike, BedrockTarget, BedrockCall> = {
    what: 'bedrock-runtime send',
    describe: (command: CommandLike) => budgetRequest(targetOf(command)!),
    target(_self, command: CommandLike) {
      return targetOf(command);
    },
    start(self, _command, target, scope, parent) {
      const start = startAttributes(A.GEN_AI_OPERATION.CHAT, target.provider, target.model, serverOf(self) ?? {});
      const span = startCallSpan(host, A.GEN_AI_OPERATION.CHAT, target.model, start, parent);
      const stream = target.operation === 'converse-stream' || target.operation === 'invoke-stream';
      return new BedrockCall(
        { host, span, parent, start, provider: target.provider, model: target.model, scope, hash: bedrockRequestHash(target), timed: stream },
        target,
        self,
      );
    },
    attach: (call, result) => (result as Promise<unknown>).then(call.resolved, call.rejected),
    refuse: (err) => Promise.reject(err),
  };
  const targets = new WeakMap<object, BedrockTarget | null>();
  function targetOf(command: CommandLike): BedrockTarget | undefined {
    if (!command || typeof command !== 'object') return undefined;
    let t = targets.get(command);
    if (t !== undefined) return t ?? undefined;
    const operation: Operation | undefined =
      classes.converse && command instanceof classes.converse
        ? 'converse'
        : classes.converseStream && command instanceof classes.converseStream
          ? 'converse-stream'
          : classes.invoke && command instanceof classes.invoke
            ? 'invoke'
            : classes.invokeStream && command instanceof classes.invokeStream
              ? 'invoke-stream'
              : undefined;
    const input = command.input;
    let body: any;
    if (operation === 'invoke' || operation === 'invoke-stream') {
      try {
        body = jsonOf(input?.body);
      } catch {
        body = undefined; // Not JSON: priced from the response alone.
      }
    }
    t = operation
      ? { provider: A.GEN_AI_PROVIDER.AWS_BEDROCK, model: typeof input?.modelId === 'string' ? input.modelId : undefined, operation, input, body }
      : null;
    targets.set(command, t);
    return t ?? undefined;
  }
  return (original: (...args: any[]) => unknown) => {
    const instrumented = instrumentedMethod(host, site, original);
    return function send(this: BedrockClientLike, command: CommandLike, ...rest: unknown[]) {
      // The callback forms, and commands that are no model call, go to the SDK as they are.
      if (rest.length || !targetOf(command)) return original.call(this, command, ...rest);
      return instrumented.call(this, command);
    };
  };
}
