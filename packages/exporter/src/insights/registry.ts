/** Every insight detector, in the order findings of equal saving are listed. Adding one is one line. */
import { batchEligible } from './detectors/batch-eligible.ts';
import { contextBloat } from './detectors/context-bloat.ts';
import { duplicateRequests } from './detectors/duplicate-requests.ts';
import { overProvisioned } from './detectors/over-provisioned.ts';
import { promptCachingUnused } from './detectors/prompt-caching.ts';
import { retryLoops } from './detectors/retry-loops.ts';
import { wrongModel } from './detectors/wrong-model.ts';
import type { Detector } from './types.ts';

export const DETECTORS: readonly Detector[] = [contextBloat, wrongModel, retryLoops, duplicateRequests, promptCachingUnused, batchEligible, overProvisioned];
