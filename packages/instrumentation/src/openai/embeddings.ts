/**
 * `embeddings.create` as an `embeddings` span: `usage.prompt_tokens` is the input, output is 0.
 * (v7 asks the wire for base64 and decodes it; the span reads the same usage block either way.)
 */
import { promptText } from '../budget-gate.ts';
import * as A from '@spendtrace/semconv';
import type { ChatMessage } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';
import { NOT_STREAMING, type OpenAIApi } from './call.ts';

interface EmbeddingsParams {
  model?: string;
  input?: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: string;
}

/** Inputs as message-like entries for the request hash (token arrays as their digits). */
export function inputsAsMessages(input: unknown): ChatMessage[] {
  if (typeof input === 'string') return [{ content: input }];
  if (!Array.isArray(input)) return [];
  if (input.length && typeof input[0] === 'number') return [{ content: input.join(',') }];
  return input.map((x) => ({ content: typeof x === 'string' ? x : Array.isArray(x) ? x.join(',') : '' }));
}

export const embeddingsApi: OpenAIApi<EmbeddingsParams> = {
  operation: A.GEN_AI_OPERATION.EMBEDDINGS,
  budget: (body: any) => ({ text: promptText(body?.input), maxOutputTokens: undefined }),

  requestAttributes(body, attrs) {
    if (typeof body.dimensions === 'number') attrs[A.ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = body.dimensions;
    if (typeof body.encoding_format === 'string') attrs[A.ATTR_GEN_AI_REQUEST_ENCODING_FORMATS] = [body.encoding_format];
  },

  hash: (model, body) => requestHash(model, inputsAsMessages(body?.input)),

  streaming: () => NOT_STREAMING,

  readResult(call, r: { model?: string; usage?: { prompt_tokens?: number; cost?: number } | null }) {
    call.responseModel = r?.model;
    const u = r?.usage;
    if (u) {
      call.usage = { inputTokens: u.prompt_tokens ?? 0, outputTokens: 0 };
      if (typeof u.cost === 'number') call.providerCost = u.cost;
    }
  },

  readChunk: () => false,
};
