/**
 * `@aws-sdk/client-bedrock-runtime` (AWS SDK for JavaScript v3): model calls sent through
 * `BedrockRuntimeClient.send` (runtime.ts). The SDK emits no GenAI spans of its own.
 */
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { GenAIHost } from '../provider-host.ts';
import { unwrapIfWrapped, wrapOnce, type Wrapper } from '../wrapping.ts';
import { patchedSend, type CommandClass, type CommandClasses } from './runtime.ts';

/** 3.x; 3.1178 is the tested version (Converse needs >= 3.588). */
export const BEDROCK_RUNTIME_SUPPORTED_VERSIONS = ['>=3.588.0 <4'];

interface BedrockModule {
  BedrockRuntimeClient?: { prototype: object };
  ConverseCommand?: CommandClass;
  ConverseStreamCommand?: CommandClass;
  InvokeModelCommand?: CommandClass;
  InvokeModelWithResponseStreamCommand?: CommandClass;
}

function clientPrototype(exports: unknown): object | undefined {
  return (exports as BedrockModule | undefined)?.BedrockRuntimeClient?.prototype;
}

/** Whether `exports` holds something `patchBedrockRuntime` can instrument. */
export function isBedrockRuntimePatchable(exports: unknown): boolean {
  return typeof (clientPrototype(exports) as { send?: unknown } | undefined)?.send === 'function';
}

/** Patches the SDK's exports (the module hook's, or what an app passes to `manuallyInstrument`). */
export function patchBedrockRuntime<T>(exports: T, host: GenAIHost): T {
  const mod = exports as BedrockModule;
  const proto = clientPrototype(exports);
  if (!proto) {
    host.diag.warn('@aws-sdk/client-bedrock-runtime exports no BedrockRuntimeClient; not instrumented');
    return exports;
  }
  const classes: CommandClasses = {
    converse: mod.ConverseCommand,
    converseStream: mod.ConverseStreamCommand,
    invoke: mod.InvokeModelCommand,
    invokeStream: mod.InvokeModelWithResponseStreamCommand,
  };
  wrapOnce(host.wrapper, proto, 'send', patchedSend(host, classes));
  return exports;
}

export function unpatchBedrockRuntime(exports: unknown, w: Wrapper): void {
  unwrapIfWrapped(w, clientPrototype(exports), 'send');
}

/** The module definition for `SpendtraceInstrumentation.init()`. */
export function bedrockRuntimeModuleDefinition(host: GenAIHost): InstrumentationNodeModuleDefinition {
  return new InstrumentationNodeModuleDefinition(
    '@aws-sdk/client-bedrock-runtime',
    BEDROCK_RUNTIME_SUPPORTED_VERSIONS,
    (exports) => patchBedrockRuntime(exports, host),
    (exports) => unpatchBedrockRuntime(exports, host.wrapper),
  );
}
