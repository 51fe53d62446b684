// Proves the whole spine over OTLP/HTTP JSON: real openai SDK -> fake OpenAI -> SpendtraceInstrumentation (NodeSDK) -> spendtrace serve -> chDB rollups, exact to the pico-dollar, replay-safe.
import { test } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { runSpine } from './spine-assertions.ts';

test('research, failed triage and a 10-step growing-context task roll up exactly (JSON)', async () => {
  await runSpine((url) => new OTLPTraceExporter({ url }));
});
