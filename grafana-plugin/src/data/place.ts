import { NumberRow, Registration } from '../types';

/** Registration as Zoom lists a number's: registered, not registered, or nothing known. */
export const REGISTRATION_LABEL: Record<Registration, string> = {
  registered: 'Registered',
  not_registered: 'Not registered',
  unknown: 'Unknown',
};

export function registrationText(r: Registration | null): string {
  return r === null ? '—' : REGISTRATION_LABEL[r];
}

/** "New York, NY · US", the country alone when the data names no area, or a dash. */
export function placeText(r: Pick<NumberRow, 'area' | 'country'>): string {
  return [r.area, r.country].filter(Boolean).join(' · ') || '—';
}
