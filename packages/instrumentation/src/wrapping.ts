/**
 * The one way methods are wrapped: through the instrumentation's `_wrap` / `_unwrap`
 * (`InstrumentationBase`'s shimmer), handed to every provider module as a {@link Wrapper}.
 * `_wrap` wraps again what is already wrapped, so provider modules patch through
 * {@link wrapOnce}: patching the same SDK copy twice (the module hook and `manuallyInstrument`,
 * `enable()` after `disable()`) leaves one wrapper.
 */
import { isWrapped } from '@opentelemetry/instrumentation';

type AnyFn = (...args: any[]) => any;

/** The instrumentation's shimmer hooks (`_wrap` / `_unwrap` are protected on InstrumentationBase). */
export interface Wrapper {
  wrap(target: object, name: string, wrapper: (original: any) => any): void;
  unwrap(target: object, name: string): void;
}

/** Wraps `target[name]` unless it is missing or already wrapped. */
export function wrapOnce(w: Wrapper, target: object | undefined, name: string, factory: (original: AnyFn) => AnyFn): void {
  const current = (target as Record<string, unknown> | undefined)?.[name];
  if (!target || typeof current !== 'function' || isWrapped(current)) return;
  w.wrap(target, name, factory);
}

/** Restores `target[name]` when it is wrapped. */
export function unwrapIfWrapped(w: Wrapper, target: object | undefined, name: string): void {
  if (target && isWrapped((target as Record<string, unknown>)[name])) w.unwrap(target, name);
}
