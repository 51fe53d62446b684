/**
 * The `openai` SDK module (v5–v7): which prototypes to patch behind a module namespace, the
 * `OpenAI` class or a client instance, and the wrappers for each. `AzureOpenAI` extends `OpenAI`
 * and shares its resource classes, so it is covered by the same patches.
 */
import { isWrapped } from '@opentelemetry/instrumentation';
import { countingRetryRequest, observingShouldRetry } from '../retry-attempts.ts';
import type { Wrapper } from '../wrapping.ts';
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
  const cls = (
    typeof mod === 'function' && (mod as { Chat?: unknown }).Chat
      ? mod
      : (mod.OpenAI ?? (mod.default as Record<string, unknown> | undefined)?.OpenAI ?? mod.default)
  ) as OpenAIClass | undefined;
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

export type { Wrapper } from '../wrapping.ts';

function methods(t: OpenAITargets): Array<[Proto | undefined, OpenAIApi]> {
  return [
    [t.completions, chatCompletionsApi],
    [t.responses, responsesApi],
    [t.embeddings, embeddingsApi],
    [t.legacyCompletions, completionsApi],
  ];
}

/** The client's retry steps, seen through its prototype (retry-attempts.ts). */
const RETRY_HOOKS = [
  ['shouldRetry', observingShouldRetry],
  ['retryRequest', countingRetryRequest],
] as const;

/** Wraps every `create` found (re-wrapping a wrapped one), and the client's retry steps. */
export function patchOpenAITargets(host: ChatHost, w: Wrapper, t: OpenAITargets, onlyUnwrapped = false): void {
  const wrapOnce = (proto: Proto, name: string, wrapper: (original: any) => any) => {
    if (isWrapped(proto[name])) {
      if (onlyUnwrapped) return;
      w.unwrap(proto, name);
    }
    w.wrap(proto, name, wrapper);
  };
  for (const [proto, api] of methods(t)) {
    if (proto && typeof proto.create === 'function') wrapOnce(proto, 'create', (original: MethodFn) => patchedMethod(host, api, original));
  }
  const client = t.client;
  if (client) for (const [name, hook] of RETRY_HOOKS) if (typeof client[name] === 'function') wrapOnce(client, name, hook);
}

export function unpatchOpenAITargets(w: Wrapper, t: OpenAITargets): void {
  for (const [proto] of methods(t)) if (proto && isWrapped(proto.create)) w.unwrap(proto, 'create');
  const client = t.client;
  if (client) for (const [name] of RETRY_HOOKS) if (isWrapped(client[name])) w.unwrap(client, name);
}
