/**
 * `@anthropic-ai/sdk`: `messages.create` and `beta.messages.create` (which `messages.stream()`,
 * `parse()` and the tool runner go through). SDK 1.x and 0.x from 0.134 trace natively: their spans are priced and
 * attributed in place (native-tracing.ts) and spendtrace adds none; clients with tracing off, and
 * clients of SDKs before 0.134, get spendtrace's own `chat {model}` span.
 */
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { GenAIHost } from '../provider-host.ts';
import { patchedCreate, patchedStreamHelper, type CreateFn } from './messages.ts';
import { countingRetryRequest, observingShouldRetry } from '../retry-attempts.ts';
import { unwrapIfWrapped, wrapOnce, type Wrapper } from '../wrapping.ts';

export type { GenAIHost } from '../provider-host.ts';
export { hasNativeTracing } from './native-tracing.ts';

/** Versions tested: 0.60 (no native tracing), 0.137 (native tracing) and 1.12; 0.x shapes are handled by the look-alike types. */
export const ANTHROPIC_SUPPORTED_VERSIONS = ['>=0.30.0 <2'];

interface AnthropicClass {
  prototype: object;
  Messages?: { prototype: object };
  Beta?: { Messages?: { prototype: object } };
}

/**
 * The prototypes to patch behind what an app or the module hook hands over: the module
 * namespace (`Anthropic` / `default` export), the `Anthropic` class itself, or a client.
 * `client` holds the retry steps (`shouldRetry`, `retryRequest`) seen by retry-attempts.ts.
 */
function targets(exports: unknown): { messages: object[]; client: object | undefined } {
  if (!exports || (typeof exports !== 'object' && typeof exports !== 'function')) return { messages: [], client: undefined };
  const mod = exports as { Anthropic?: AnthropicClass; default?: AnthropicClass; Messages?: unknown; messages?: object; beta?: { messages?: object } };
  const cls = typeof exports === 'function' && mod.Messages ? (exports as AnthropicClass) : (mod.Anthropic ?? mod.default);
  if (cls?.Messages) {
    const messages = [cls.Messages.prototype, cls.Beta?.Messages?.prototype].filter((p): p is object => !!p);
    return { messages, client: cls.prototype };
  }
  // A client instance: patch the classes behind it (every client of that SDK copy).
  if (mod.messages && typeof mod.messages === 'object') {
    const beta = mod.beta?.messages;
    const messages = [Object.getPrototypeOf(mod.messages), beta && typeof beta === 'object' ? Object.getPrototypeOf(beta) : undefined].filter(
      (p): p is object => !!p,
    );
    return { messages, client: Object.getPrototypeOf(exports) };
  }
  return { messages: [], client: undefined };
}

/** Whether `exports` holds something `patchAnthropic` can instrument. */
export function isAnthropicPatchable(exports: unknown): boolean {
  return targets(exports).messages.length > 0;
}

/** Patches the SDK's exports (the module hook's, or what an app passes to `manuallyInstrument`). */
export function patchAnthropic<T>(exports: T, host: GenAIHost): T {
  const { messages, client } = targets(exports);
  if (!messages.length) {
    host.diag.warn('@anthropic-ai/sdk exports no Messages class; not instrumented');
    return exports;
  }
  const create = patchedCreate(host);
  const stream = patchedStreamHelper(host);
  const w = host.wrapper;
  for (const proto of messages) {
    wrapOnce(w, proto, 'create', create as (o: CreateFn) => CreateFn);
    wrapOnce(w, proto, 'stream', stream);
    wrapOnce(w, proto, 'toolRunner', stream);
  }
  wrapOnce(w, client, 'shouldRetry', observingShouldRetry);
  wrapOnce(w, client, 'retryRequest', countingRetryRequest);
  return exports;
}

export function unpatchAnthropic(exports: unknown, w: Wrapper): void {
  const { messages, client } = targets(exports);
  for (const proto of messages) {
    unwrapIfWrapped(w, proto, 'create');
    unwrapIfWrapped(w, proto, 'stream');
    unwrapIfWrapped(w, proto, 'toolRunner');
  }
  unwrapIfWrapped(w, client, 'shouldRetry');
  unwrapIfWrapped(w, client, 'retryRequest');
}

/** The module definition for `SpendtraceInstrumentation.init()`. */
export function anthropicModuleDefinition(host: GenAIHost): InstrumentationNodeModuleDefinition {
  return new InstrumentationNodeModuleDefinition(
    '@anthropic-ai/sdk',
    ANTHROPIC_SUPPORTED_VERSIONS,
    (exports) => patchAnthropic(exports, host),
    (exports) => unpatchAnthropic(exports, host.wrapper),
  );
}
