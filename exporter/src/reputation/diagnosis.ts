// Diagnosis (docs/scoring.md §7.1): the situations operators reason with, and healthy.
//   blacklisted — blocks or an engine label (direct evidence);
//   degrading   — this number's own early-warning evidence, before any block or label;
//   engagement  — "declining score, stable answers": recipients answer as before but the people reached
//                 convert less (the dialer's dispositions; engagement.ts) — the list or script, not the number;
//   external    — the pool or a carrier it dials moved (an event), not this number;
//   healthy     — none of these.

import type { CarrierAssessment } from './carrierFlag.js';
import type { CarrierEvent } from './events.js';
import { ALL_CARRIERS } from './events.js';
import type { Signal } from './signals.js';

export const DIAGNOSES = ['healthy', 'external', 'engagement', 'degrading', 'blacklisted'] as const;
export type Diagnosis = (typeof DIAGNOSES)[number];

export function diagnose(
  inp: { labelled: boolean; carriers: Record<string, CarrierAssessment>; signals: Signal[]; events: CarrierEvent[] },
): { diagnosis: Diagnosis; reason: string } {
  const flagged = inp.signals.filter((s) => s.met && s.effect === 'flagged').map((s) => s.reason);
  if (inp.labelled || flagged.length) return { diagnosis: 'blacklisted', reason: [...new Set(flagged)].join('; ') || 'labelled by an engine' };
  const warned = inp.signals.filter((s) => s.met && s.effect === 'warning').map((s) => s.reason);
  if (warned.length) return { diagnosis: 'degrading', reason: warned.join('; ') };
  const conversion = inp.signals.find((s) => s.met && s.name === 'conversion_drop');
  if (conversion) return { diagnosis: 'engagement', reason: conversion.reason };
  const mine = inp.events.filter((e) => e.active && (e.carrier === ALL_CARRIERS || inp.carriers[e.carrier]));
  if (mine.length) return { diagnosis: 'external', reason: mine.map((e) => e.reason).join('; ') };
  return { diagnosis: 'healthy', reason: 'no block, label, early warning or pool/carrier event' };
}
