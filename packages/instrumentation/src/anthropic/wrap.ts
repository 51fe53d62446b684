/**
 * Method wrapping compatible with shimmer / `isWrapped` from `@opentelemetry/instrumentation`, usable
 * outside an `InstrumentationBase` (module hooks, `manuallyInstrument`, tests alike).
 */
import { isWrapped } from '@opentelemetry/instrumentation';

type AnyFn = (...args: any[]) => any;

export function wrapMethod(target: object | undefined, name: string, factory: (original: AnyFn) => AnyFn): void {
  const holder = target as Record<string, unknown> | undefined;
  const original = holder?.[name];
  if (!holder || typeof original !== 'function' || isWrapped(original)) return;
  const wrapped = factory(original as AnyFn);
  Object.defineProperties(wrapped, {
    __original: { value: original, configurable: true },
    __wrapped: { value: true, configurable: true },
    __unwrap: { value: () => unwrapMethod(holder, name), configurable: true },
  });
  holder[name] = wrapped;
}

export function unwrapMethod(target: object | undefined, name: string): void {
  const holder = target as Record<string, unknown> | undefined;
  const current = holder?.[name];
  if (holder && isWrapped(current)) holder[name] = (current as unknown as { __original: unknown }).__original;
}
