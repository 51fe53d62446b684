/** `manuallyInstrument()`: for bundled apps, where module hooks never see the SDK being loaded. */
import { diag } from '@opentelemetry/api';
import { SpendtraceInstrumentation } from './instrumentation.ts';

export interface ManualModules {
  /** The `openai` module namespace (`import * as openai from 'openai'`), the `OpenAI` class, or a client instance. */
  openai?: unknown;
  /** The `@anthropic-ai/sdk` module namespace, the `Anthropic` class, or a client instance. */
  anthropic?: unknown;
  /** The `@google/genai` module namespace (`import * as genai from '@google/genai'`) or a `GoogleGenAI` client. */
  googleGenAI?: unknown;
  /** The `@aws-sdk/client-bedrock-runtime` module namespace (`import * as bedrock from '@aws-sdk/client-bedrock-runtime'`). */
  bedrockRuntime?: unknown;
}

/**
 * Patches the SDKs given. Uses `instrumentation`, else the most recently constructed
 * SpendtraceInstrumentation, else a new one with the default config (spans then go to the
 * global tracer provider). Returns the instance, so the app can `disable()` it, which restores
 * the original methods of every SDK given here.
 */
export function manuallyInstrument(modules: ManualModules, instrumentation?: SpendtraceInstrumentation): SpendtraceInstrumentation {
  const inst = instrumentation ?? SpendtraceInstrumentation.latest ?? new SpendtraceInstrumentation();
  const attempt = (name: string, given: unknown, patch: (m: unknown) => boolean) => {
    if (!given) return;
    try {
      if (!patch(given)) diag.warn(`spendtrace: manuallyInstrument could not find what to patch in the given ${name} export`);
    } catch (err) {
      diag.error(`spendtrace: manuallyInstrument failed for ${name}`, err);
    }
  };
  attempt('openai', modules.openai, (m) => inst.instrumentManually(m));
  attempt('@anthropic-ai/sdk', modules.anthropic, (m) => inst.instrumentAnthropicManually(m));
  attempt('@google/genai', modules.googleGenAI, (m) => inst.instrumentGoogleGenAIManually(m));
  attempt('@aws-sdk/client-bedrock-runtime', modules.bedrockRuntime, (m) => inst.instrumentBedrockRuntimeManually(m));
  return inst;
}
