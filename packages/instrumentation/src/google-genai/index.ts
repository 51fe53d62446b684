/**
 * `@google/genai`: `models.generateContent`, `generateContentStream`, `embedContent`, and chats
 * (which call them), as `generate_content {model}` / `embeddings {model}` spans with
 * `gen_ai.provider.name` `gcp.gemini` (Gemini API) or `gcp.vertex_ai` (Vertex AI).
 */
import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { GenAIHost } from '../provider-host.ts';
import { unwrapIfWrapped, wrapOnce, type Wrapper } from '../wrapping.ts';
import { patchedEmbedContent, patchedGenerateContent, patchedGenerateContentStream, uninstrumentAttempts } from './models.ts';

/** 1.x–3.x share the `Models` internals patched here; 3.1 is the tested version. */
export const GOOGLE_GENAI_SUPPORTED_VERSIONS = ['>=1.0.0 <4'];

const METHODS = ['generateContentInternal', 'generateContentStreamInternal', 'embedContentInternal'] as const;

/** `Models.prototype` behind the module namespace (or its default export) or a `GoogleGenAI` client. */
function modelsPrototype(exports: unknown): object | undefined {
  const mod = exports as { Models?: { prototype: object }; default?: { Models?: { prototype: object } }; models?: object } | undefined;
  if (!mod || (typeof mod !== 'object' && typeof mod !== 'function')) return undefined;
  const proto = mod.Models?.prototype ?? mod.default?.Models?.prototype;
  if (proto) return proto;
  return mod.models && typeof mod.models === 'object' ? Object.getPrototypeOf(mod.models) : undefined;
}

/** Whether `exports` holds something `patchGoogleGenAI` can instrument. */
export function isGoogleGenAIPatchable(exports: unknown): boolean {
  const proto = modelsPrototype(exports) as Record<string, unknown> | undefined;
  return typeof proto?.generateContentInternal === 'function';
}

/** Patches the SDK's exports (the module hook's, or what an app passes to `manuallyInstrument`). */
export function patchGoogleGenAI<T>(exports: T, host: GenAIHost): T {
  const proto = modelsPrototype(exports);
  if (!proto) {
    host.diag.warn('@google/genai exports no Models class; not instrumented');
    return exports;
  }
  const w = host.wrapper;
  wrapOnce(w, proto, 'generateContentInternal', patchedGenerateContent(host) as never);
  wrapOnce(w, proto, 'generateContentStreamInternal', patchedGenerateContentStream(host) as never);
  wrapOnce(w, proto, 'embedContentInternal', patchedEmbedContent(host) as never);
  return exports;
}

export function unpatchGoogleGenAI(exports: unknown, w: Wrapper): void {
  const proto = modelsPrototype(exports);
  for (const m of METHODS) unwrapIfWrapped(w, proto, m);
  uninstrumentAttempts(w);
}

/** The module definition for `SpendtraceInstrumentation.init()`. */
export function googleGenAIModuleDefinition(host: GenAIHost): InstrumentationNodeModuleDefinition {
  return new InstrumentationNodeModuleDefinition(
    '@google/genai',
    GOOGLE_GENAI_SUPPORTED_VERSIONS,
    (exports) => patchGoogleGenAI(exports, host),
    (exports) => unpatchGoogleGenAI(exports, host.wrapper),
  );
}
