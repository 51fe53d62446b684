/**
 * The `floor` variant: the least any span-per-call instrumentation does. A CLIENT span with 3
 * attributes at start and 5 from the response, the SDK called with it active, ended when the
 * result arrives. No pricing, no metrics, no helpers or streams handled: what OTel itself costs
 * per call, measured beside spendtrace so its own share can be told apart.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';

type CreateFn = (this: unknown, body: any, options?: unknown) => Promise<any>;

/** Patches `Chat.Completions.prototype.create` of one loaded `openai` module. */
export function installFloor(openai: { OpenAI: { Chat: { Completions: { prototype: unknown } } } }): void {
  const tracer = trace.getTracer('floor');
  const proto = openai.OpenAI.Chat.Completions.prototype as { create: CreateFn };
  const original = proto.create;
  proto.create = function create(body, options) {
    const ctx = context.active();
    const span = tracer.startSpan(
      `chat ${body.model}`,
      { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': body.model } },
      ctx,
    );
    const p = context.with(trace.setSpan(ctx, span), original, this, body, options);
    p.then(
      (r) => {
        span.setAttributes({
          'gen_ai.response.model': r?.model,
          'gen_ai.response.id': r?.id,
          'gen_ai.usage.input_tokens': r?.usage?.prompt_tokens,
          'gen_ai.usage.output_tokens': r?.usage?.completion_tokens,
          'gen_ai.response.finish_reasons': ['stop'],
        });
        span.end();
      },
      () => span.end(),
    );
    return p;
  };
}
