/**
 * The router's random source: seeded (reproducible decisions) or Math.random, and the Beta draws
 * Thompson sampling needs. Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); gammas by
 * Marsaglia & Tsang (2000), normals by Box–Muller. Every draw consumes only `next()`, so a seed
 * fixes the whole sequence.
 */

/** A uniform source in [0, 1). */
export type RandomSource = () => number;

/** mulberry32: small, fast, and good enough for sampling (not for secrets). */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Sampler {
  readonly next: RandomSource;
  private spare: number | undefined;

  constructor(next: RandomSource) {
    this.next = next;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  gamma(shape: number): number {
    if (shape < 1) {
      // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia & Tsang, section 6).
      let u = this.next();
      while (u <= Number.MIN_VALUE) u = this.next();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      let v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const u = this.next();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  beta(alpha: number, beta: number): number {
    const x = this.gamma(alpha);
    const y = this.gamma(beta);
    return x / (x + y);
  }
}
