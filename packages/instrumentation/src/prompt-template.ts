/**
 * `withPrompt({ name, version }, fn)`: LLM calls started inside `fn` carry `gen_ai.prompt.name` and
 * `gen_ai.prompt.version`, so reports can rank prompt templates by what they cost. Its own
 * AsyncLocalStorage, read once as each call starts (inference-call.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { diag, type Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';

export interface PromptTemplate {
  /** The template's name in the app or a prompt registry ("ticket-classifier"). */
  name: string;
  /** Its version ("3", "2026-11-02"). */
  version?: string;
}

const storage = new AsyncLocalStorage<Attributes>();

/** Runs `fn` with `template` as the prompt template of every LLM call started inside it. */
export function withPrompt<T>(template: PromptTemplate, fn: () => T): T {
  let attrs: Attributes;
  try {
    if (!template || typeof template.name !== 'string' || template.name === '') {
      diag.warn('spendtrace: withPrompt expects { name: string }; running without a prompt name');
      return fn();
    }
    attrs = { [A.ATTR_GEN_AI_PROMPT_NAME]: template.name };
    if (template.version !== undefined) attrs[A.ATTR_GEN_AI_PROMPT_VERSION] = String(template.version);
  } catch (err) {
    diag.error('spendtrace: withPrompt failed; running without a prompt name', err);
    return fn();
  }
  return storage.run(attrs, fn);
}

/** @internal The prompt attributes of the current context, if any. */
export function currentPromptAttributes(): Attributes | undefined {
  return storage.getStore();
}
