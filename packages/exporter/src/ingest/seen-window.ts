/**
 * The span ids accepted recently, so an immediate replay (a Collector retry after a lost reply)
 * is answered without logging or inserting it again. Only a shortcut: the exactly-once guarantee
 * is the store's (span-writer.ts), for any replay, after any restart. Bounded: the oldest ids leave
 * first, from a ring, so eviction is O(1) (deleting a Set's first entry again and again made
 * V8 skip ever more deleted slots: ingest fell tenfold once the window was full).
 */
export class SeenWindow {
  private readonly ids = new Set<string>();
  private readonly ring: Array<string | undefined>;
  private next = 0;
  readonly capacity: number;

  /** @param capacity ids remembered. @default 1_000_000 */
  constructor(capacity = 1_000_000) {
    this.capacity = Math.max(1, capacity);
    this.ring = new Array<string | undefined>(this.capacity);
  }

  static key(traceId: string, spanId: string): string {
    return traceId + spanId;
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  add(key: string): void {
    if (this.ids.has(key)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.ids.delete(old);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(key);
  }

  get size(): number {
    return this.ids.size;
  }
}
