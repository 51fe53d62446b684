/**
 * The `openai` SDK module (v5–v7): which prototypes to patch behind a module namespace, the
 * `OpenAI` class or a client instance, and the wrappers for each. `AzureOpenAI` extends `OpenAI`
 * and shares its resource classes, so it is covered by the same patches.
 */
import { isWrapped } from '@opentelemetry/instrumentation';
import { restoreClientFetches } from '../retry-attempts.ts';
import { patchedMethod, type ChatHost, type MethodFn, type OpenAIApi } from './call.ts';
import { chatCompletionsApi } from './chat-completions.ts';
import { completionsApi } from './completions.ts';
import { embeddingsApi } from './embeddings.ts';
import { responsesApi } from './responses.ts';

type Proto = Record<string, unknown>;

export interface OpenAITargets {
  /** `Chat.Completions.prototype` (the name is kept for the manual-target bookkeeping). */
  completions?: Proto;
  responses?: Proto;
  embeddings?: Proto;
  /** Legacy `Completions.prototype`. */
  legacyCompletions?: Proto;
  /** The client class prototype. */
  client?: Proto;
}

interface OpenAIClass {
  prototype: Proto;
  Chat?: { Completions?: { prototype: Proto } };
  Responses?: { prototype: Proto };
  Embeddings?: { prototype: Proto };
  Completions?: { prototype: Proto };
}

const protoOf = (x: unknown): Proto | undefined => (x && typeof x === 'object' ? (Object.getPrototypeOf(x) as Proto) : undefined);

/** The resource prototypes behind an `openai` export: module namespace, `OpenAI` class, or client instance. */
export function openaiTargets(exports: unknown): OpenAITargets {
  const mod = exports as Record<string, unknown> | undefined;
  if (!mod) return {};
  const cls = (typeof mod === 'function' && (mod as { Chat?: unknown }).Chat ? mod : (mod.OpenAI ?? (mod.default as Record<string, unknown> | undefined)?.OpenAI ?? mod.default)) as
    | OpenAIClass
    | undefined;
  const completions = cls?.Chat?.Completions?.prototype;
  if (completions) {
    return {
      completions,
      responses: cls.Responses?.prototype,
      embeddings: cls.Embeddings?.prototype,
      legacyCompletions: cls.Completions?.prototype,
      client: cls.prototype,
    };
  }
  // A client instance (`new OpenAI()`): patch the classes behind it.
  const instance = mod as { chat?: { completions?: object }; responses?: object; embeddings?: object; completions?: object };
  const resource = instance.chat?.completions;
  if (resource && typeof resource === 'object') {
    return {
      completions: protoOf(resource),
      responses: protoOf(instance.responses),
      embeddings: protoOf(instance.embeddings),
      legacyCompletions: protoOf(instance.completions),
      client: protoOf(instance),
    };
  }
  return {};
}

/** The instrumentation's shimmer hooks (`_wrap` / `_unwrap` are protected on InstrumentationBase). */
export interface Wrapper {
  wrap(target: Proto, name: string, wrapper: (original: any) => any): void;
  unwrap(target: Proto, name: string): void;
}

function methods(t: OpenAITargets): Array<[Proto | undefined, OpenAIApi]> {
  return [
    [t.completions, chatCompletionsApi],
    [t.responses, responsesApi],
    [t.embeddings, embeddingsApi],
    [t.legacyCompletions, completionsApi],
  ];
}

/** Wraps every `create` found (re-wrapping a wrapped one). HTTP attempts are counted per client instance (call.ts). */
export function patchOpenAITargets(host: ChatHost, w: Wrapper, t: OpenAITargets, onlyUnwrapped = false): void {
  for (const [proto, api] of methods(t)) {
    if (!proto || typeof proto.create !== 'function') continue;
    if (isWrapped(proto.create)) {
      if (onlyUnwrapped) continue;
      w.unwrap(proto, 'create');
    }
    w.wrap(proto, 'create', (original: MethodFn) => patchedMethod(host, api, original));
  }
}

export function unpatchOpenAITargets(w: Wrapper, t: OpenAITargets): void {
  for (const [proto] of methods(t)) if (proto && isWrapped(proto.create)) w.unwrap(proto, 'create');
  restoreClientFetches();
}
