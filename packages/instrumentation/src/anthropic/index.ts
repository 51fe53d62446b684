/**
 * `@anthropic-ai/sdk`: `messages.create` and `beta.messages.create` (which `messages.stream()`,
 * `parse()` and the tool runner go through). SDK 1.x traces natively: its spans are priced and
 * attributed in place (native-tracing.ts) and spendtrace adds none; clients with tracing off, and
 * 0.x clients, get spendtrace's own `chat {model}` span.
 */
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { GenAIHost } from './llm-call.ts';
import { patchedCreate, patchedStreamHelper, type CreateFn } from './messages.ts';
import { unwrapMethod, wrapMethod } from './wrap.ts';

export type { GenAIHost } from './llm-call.ts';
export { hasNativeTracing } from './native-tracing.ts';

/** Versions tested: 0.x shapes are handled by the look-alike types, 1.12 is the tested major. */
export const ANTHROPIC_SUPPORTED_VERSIONS = ['>=0.30.0 <2'];

interface AnthropicModule {
  Anthropic?: AnthropicClass;
  default?: AnthropicClass;
}
interface AnthropicClass {
  Messages?: { prototype: object };
  Beta?: { Messages?: { prototype: object } };
}

function prototypes(exports: unknown): object[] {
  const mod = exports as AnthropicModule | undefined;
  const Anthropic = mod?.Anthropic ?? mod?.default;
  return [Anthropic?.Messages?.prototype, Anthropic?.Beta?.Messages?.prototype].filter((p): p is object => !!p);
}

/** Patches the SDK's exports (the module hook's, or what an app passes to `manuallyInstrument`). */
export function patchAnthropic<T>(exports: T, host: GenAIHost): T {
  const create = patchedCreate(host);
  const stream = patchedStreamHelper(host);
  for (const proto of prototypes(exports)) {
    wrapMethod(proto, 'create', create as (o: CreateFn) => CreateFn);
    wrapMethod(proto, 'stream', stream);
  }
  return exports;
}

export function unpatchAnthropic(exports: unknown): void {
  for (const proto of prototypes(exports)) {
    unwrapMethod(proto, 'create');
    unwrapMethod(proto, 'stream');
  }
}

/** The module definition for `SpendtraceInstrumentation.init()`. */
export function anthropicModuleDefinition(host: GenAIHost): InstrumentationNodeModuleDefinition {
  return new InstrumentationNodeModuleDefinition(
    '@anthropic-ai/sdk',
    ANTHROPIC_SUPPORTED_VERSIONS,
    (exports) => patchAnthropic(exports, host),
    (exports) => unpatchAnthropic(exports),
  );
}
