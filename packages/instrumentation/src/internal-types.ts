/**
 * Look-alike shapes of the `openai` SDK objects the instrumentation touches (v5–v7), so the
 * package type-checks without depending on one SDK version's types. Never exported.
 */

export interface ChatCompletionUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  /** Provider-reported cost in USD (OpenRouter and some gateways). */
  cost?: number;
}

export interface ChatMessage {
  role?: string;
  content?: unknown;
  name?: string;
  tool_call_id?: string;
  tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
}

/** The request fields Chat Completions and the legacy Completions API share. */
export interface CompletionRequestParams {
  model?: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  n?: number | null;
}

export interface ChatCompletionParams extends CompletionRequestParams {
  messages?: ChatMessage[];
  max_completion_tokens?: number | null;
  response_format?: { type?: string } | null;
  tools?: unknown[];
}

/** Legacy `completions.create`. */
export interface CompletionParams extends CompletionRequestParams {
  prompt?: string | string[] | number[] | number[][] | null;
}

/** A Chat Completions or legacy Completions body, or one of their stream chunks: the fields both read alike. */
export interface CompletionResult<Choice> {
  id?: string;
  model?: string;
  choices?: Choice[];
  usage?: ChatCompletionUsage | null;
}

/** What every choice, whole or streamed, may carry. */
export interface CompletionChoice {
  index?: number;
  finish_reason?: string | null;
}

export type ChatCompletion = CompletionResult<CompletionChoice & { message?: unknown }>;

export type ChatCompletionChunk = CompletionResult<
  CompletionChoice & { delta?: { content?: string | null; tool_calls?: Array<{ function?: { name?: string; arguments?: string } }> } }
>;

/** Legacy `completions.create`, whole or a stream chunk. */
export type Completion = CompletionResult<CompletionChoice & { text?: string }>;

/** What `APIClient.makeRequest` resolves to (the `responsePromise` of an APIPromise). */
export interface APIResponseProps {
  response: Response;
  options: object;
  controller?: AbortController;
}

/** The SDK's `APIPromise`: a Promise subclass whose fields we attach to. */
export interface APIPromiseLike<T = unknown> extends Promise<T> {
  responsePromise: Promise<APIResponseProps>;
  parseResponse: (client: unknown, props: APIResponseProps) => Promise<unknown> | unknown;
  parsedPromise?: Promise<unknown>;
}

/** The SDK's `Stream`: `iterator` is the raw event source every consumer path goes through. */
export interface StreamLike {
  iterator: () => AsyncIterator<ChatCompletionChunk>;
  controller?: AbortController;
}

/** `chat.completions` resource instance. */
export interface CompletionsResource {
  _client?: { baseURL?: string };
}

export type CreateFn = (this: CompletionsResource, body: ChatCompletionParams, options?: unknown) => unknown;
