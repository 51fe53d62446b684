/** Limits on what one span may carry into storage. */
export const LIMITS = {
  /** Longest attribute value kept, in UTF-16 units (cut on a code point boundary); longer ones are cut. */
  maxValueChars: 16_384,
  /** All attribute keys and values of one span's map together; attributes past it are dropped. */
  maxSpanAttributeChars: 131_072,
  /**
   * The same for a resource's map. It is stored on every span of the resource, so it is kept
   * small: an 8 MB resource attribute copied into 5,000 rows was a 40 GB batch.
   */
  maxResourceAttributeChars: 16_384,
  /** Longest attribute key; longer keys are dropped. */
  maxKeyChars: 256,
  /** Attributes kept per span (and per resource). */
  maxAttributes: 512,
  /** Longest value of a dimension column (names, models, ids). */
  maxLabelChars: 512,
  /**
   * Largest token count of one kind on one call; anything above is not a real count. The largest
   * context window offered today is 10M tokens (Llama 4 Scout; Gemini 2M, GPT-4.1 1M); twice that.
   */
  maxTokens: 20_000_000,
  /**
   * Largest cost of one span in USD, reported or computed. The dearest listed call within
   * maxTokens (o1-pro, 20M input at $150/M plus 2M output at $600/M) is $4,200; a span above
   * it is a hostile or broken one: its reported cost is dropped, a computed one left unpriced.
   */
  maxCostUsd: 5_000,
  /** Times outside [2000-01-01, 2100-01-01) are not real span times. */
  minTimeNs: 946_684_800_000_000_000n,
  maxTimeNs: 4_102_444_800_000_000_000n,
} as const;
