/**
 * A span that delegates to the real one and keeps a copy of every attribute set on it, so the
 * call's cost and metrics can be computed at `end()` even when the real span is not recording
 * (unsampled). Subclasses decide what happens at the end: `PricedNativeSpan`
 * (anthropic/native-tracing.ts) prices the Anthropic SDK's own spans.
 */
import type { Attributes, AttributeValue, Exception, Link, Span, SpanAttributes, SpanContext, SpanStatus, TimeInput } from '@opentelemetry/api';

export abstract class AttributeKeepingSpan implements Span {
  protected readonly inner: Span;
  private readonly kept: Attributes;
  /**
   * What was set since `attrs` was last read, in order: attribute objects, or a key followed by
   * its value. Merged only when read, so a span whose attributes nobody reads (metrics off) pays
   * for no copy.
   */
  private pending: unknown[] | undefined = undefined;
  /** HTTP attempts seen while this span was active (retry-attempts.ts); -1 while not tracked. */
  attempts = -1;
  /** The last attempt's outcome when it failed; cleared by a success (retry-attempts.ts). */
  failure: { at: number; status?: number; errorType?: string } | undefined = undefined;

  /** `attrs` is kept as this span's record, not copied: pass an object nobody else changes. */
  constructor(inner: Span, attrs: Attributes) {
    this.inner = inner;
    this.kept = attrs;
  }

  /** Every attribute set so far, whether or not the real span records them. */
  protected get attrs(): Attributes {
    const p = this.pending;
    const kept = this.kept;
    if (p) {
      this.pending = undefined;
      for (let i = 0; i < p.length; i++) {
        const x = p[i];
        if (typeof x === 'string') kept[x] = p[++i] as AttributeValue;
        else Object.assign(kept, x);
      }
    }
    return kept;
  }

  spanContext(): SpanContext {
    return this.inner.spanContext();
  }
  setAttribute(key: string, value: AttributeValue): this {
    (this.pending ??= []).push(key, value);
    this.inner.setAttribute(key, value);
    return this;
  }
  /** `attributes` is read again later (when `attrs` is): pass an object nobody changes afterwards. */
  setAttributes(attributes: SpanAttributes): this {
    (this.pending ??= []).push(attributes);
    this.inner.setAttributes(attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: SpanAttributes | TimeInput, startTime?: TimeInput): this {
    this.inner.addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.inner.addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.inner.addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.inner.setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.inner.updateName(name);
    return this;
  }
  isRecording(): boolean {
    return this.inner.isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.inner.recordException(exception, time);
  }
  abstract end(endTime?: TimeInput): void;
}
