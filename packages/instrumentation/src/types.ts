import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { CostDetail, PricerOptions } from '@spendtrace/semconv';

/**
 * Base URL -> `gen_ai.provider.name`, for OpenAI-compatible servers spendtrace cannot recognise:
 * keys are a base URL prefix (`http://10.0.0.5:8080/v1`), a `host:port` or a host
 * (`llm.internal`); values a provider name (`self_hosted`, `groq`, `openai`, ...).
 */
export type OpenAIProviderMap = Readonly<Record<string, string>>;

/** How a `stream: true` call that did not ask for usage gets its token counts. */
export type StreamUsageMode = 'estimate' | 'inject' | 'off';

export interface SpendtraceInstrumentationConfig extends InstrumentationConfig {
  /**
   * Price overrides (custom, fine-tuned, self-hosted models; negotiated rates).
   * @default {} — the `@pydantic/genai-prices` catalogue only; `SPENDTRACE_PRICES_FILE` names an
   * overrides file when `overridesFile` is not given.
   */
  pricing?: PricerOptions;
  /**
   * Streams without `stream_options.include_usage`: `estimate` counts tokens locally with
   * gpt-tokenizer and marks the span `spendtrace.usage.estimated`; `inject` adds
   * `include_usage: true` to the request (and hides the extra usage chunk from the app); `off`
   * records no usage. Default `estimate`, because changing what an app sends is not ours to decide.
   * Env: `SPENDTRACE_STREAM_USAGE`.
   * @default 'estimate'
   */
  streamUsage?: StreamUsageMode;
  /**
   * Record prompts and completions as `gen_ai.input.messages` / `gen_ai.output.messages` /
   * `gen_ai.system_instructions`, JSON in the GenAI conventions' message structure, for every
   * SDK (OpenAI chat streams: input only). Off by default: messages often hold personal or secret data.
   * Env: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.
   * @default false
   */
  captureMessageContent?: boolean;
  /**
   * `gen_ai.provider.name` for `openai` clients whose base URL spendtrace cannot recognise, keyed
   * by base URL prefix (the longest matching prefix wins), `host:port` or host:
   * `{ 'http://10.0.0.5:8000/v1': 'self_hosted', 'llm.internal': 'groq' }`. Checked before the
   * built-in detection (an `AzureOpenAI` client; the Azure, OpenRouter, Groq, DeepSeek, Mistral,
   * xAI, Together and Fireworks hosts; Ollama / vLLM local servers as `self_hosted`; else
   * `openai`). The provider decides the prices, so a proxy or gateway in front of another
   * provider is named here. Read per call, so `setConfig()` applies at once. No env var: a map
   * does not fit one.
   * @default {} — built-in detection only; a server on 127.0.0.1 (a fake, a proxy) counts as
   * `openai`, so it stays priced rather than unpriced.
   */
  openaiProviders?: OpenAIProviderMap;
  /**
   * How much cost detail each inference span carries. `total`: `gen_ai.usage.cost.amount`,
   * `.currency` and `.source` (plus the breakdown and pricing version when an override priced the
   * call, since nothing downstream can rebuild those); the spendtrace exporter rebuilds the
   * breakdown of catalogue prices from the tokens. `full`: also `spendtrace.cost.input` /
   * `.output` / `.cache_read` / `.cache_write` / `.reasoning` / `.tool`,
   * `spendtrace.pricing.version` and the `gen_ai.usage.cost` alias (what OpenLIT and Langfuse
   * read) on every span, for backends other than spendtrace. `total` is the default because OTel
   * JS spans get markedly slower past 19 attributes (bench/README.md).
   * Env: `SPENDTRACE_COST_ATTRIBUTES`.
   * @default 'total'
   */
  costAttributes?: CostDetail;
}
