/** `manuallyInstrument()`: for bundled apps, where module hooks never see the SDK being loaded. */
import { diag } from '@opentelemetry/api';
import { SpendtraceInstrumentation } from './instrumentation.ts';

export interface ManualModules {
  /** The `openai` module namespace (`import * as openai from 'openai'`), the `OpenAI` class, or a client instance. */
  openai?: unknown;
}

/**
 * Patches the SDKs given. Uses `instrumentation`, else the most recently constructed
 * SpendtraceInstrumentation, else a new one with the default config (spans then go to the
 * global tracer provider). Returns the instance, so the app can `disable()` it.
 */
export function manuallyInstrument(modules: ManualModules, instrumentation?: SpendtraceInstrumentation): SpendtraceInstrumentation {
  const inst = instrumentation ?? SpendtraceInstrumentation.latest ?? new SpendtraceInstrumentation();
  try {
    if (modules.openai && !inst.instrumentManually(modules.openai)) {
      diag.warn('spendtrace: manuallyInstrument could not find chat completions in the given openai export');
    }
  } catch (err) {
    diag.error('spendtrace: manuallyInstrument failed', err);
  }
  return inst;
}
