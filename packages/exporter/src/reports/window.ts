/**
 * The report window: `since` as a duration before now (`30m`, `24h`, `7d`, `2w`, `90s`) or `all`.
 * Parsed once here so the CLI, the HTTP API and the report functions agree on what it means.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds used for `all`: about 100 years, so the same SQL serves every window. */
export const ALL_TIME_SECONDS = 100 * 365 * 86_400;

export class InvalidWindowError extends Error {
  override name = 'InvalidWindowError';
}

/** `7d` -> 604800. Throws InvalidWindowError naming the accepted forms. */
export function parseSince(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'all') return ALL_TIME_SECONDS;
  const m = /^(\d+)\s*([smhdw])$/.exec(t);
  if (!m || Number(m[1]) <= 0) {
    throw new InvalidWindowError(`invalid --since "${text}": expected a positive number with a unit s, m, h, d or w (e.g. 30m, 24h, 7d), or "all"`);
  }
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return Math.min(seconds, ALL_TIME_SECONDS);
}
