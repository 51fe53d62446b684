/**
 * The span ids accepted recently, so a replayed OTLP request (a Collector retry after a lost
 * reply) never reaches the rollups twice. Bounded: the oldest ids leave first. Batches that are
 * retried are covered separately by the store's insert_deduplication_token.
 */
export class SeenWindow {
  private readonly ids = new Set<string>();
  readonly capacity: number;

  /** @param capacity ids remembered. @default 1_000_000 */
  constructor(capacity = 1_000_000) {
    this.capacity = capacity;
  }

  static key(traceId: string, spanId: string): string {
    return traceId + spanId;
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  add(key: string): void {
    if (this.ids.has(key)) return;
    this.ids.add(key);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
