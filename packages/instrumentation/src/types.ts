import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { PricerOptions } from '@spendtrace/semconv';

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
   * Record prompts and completions as `gen_ai.input.messages` / `gen_ai.output.messages`
   * (non-streaming calls). Off by default: messages often hold personal or secret data.
   * Env: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.
   * @default false
   */
  captureMessageContent?: boolean;
}
