// Random CSV-ish lines with phone numbers in them, written the ways CDRs, SIP logs and people write them: for
// the property tests that no number survives in clear in what a rejected record keeps.
import fc from 'fast-check';

/** A phone number as CDRs and SIP logs write it: E.164, national, with the separators people and tel: URIs use. */
export const phoneArb = fc
  .tuple(fc.constantFrom('+1', '1', '', '+44', '+998', '00'), fc.stringMatching(/^[2-9][0-9]{2}$/), fc.stringMatching(/^[2-9][0-9]{2}$/), fc.stringMatching(/^[0-9]{4}$/), fc.constantFrom('', '-', ' ', '.', ') '))
  .map(([cc, a, b, c, sep]) => ({
    digits: `${cc.replace('+', '')}${a}${b}${c}`,
    text: sep === ') ' ? `${cc}(${a}) ${b}-${c}` : `${cc}${cc && sep ? sep : ''}${a}${sep}${b}${sep}${c}`,
  }));
/** Text around the numbers: letters, punctuation, short digit groups, dates, quotes. */
export const fillerArb = fc.oneof(
  fc.stringMatching(/^[a-zA-Z ,;:"'<>@=/_]{0,12}$/),
  fc.stringMatching(/^[0-9]{1,5}$/).map((d) => `,${d},`),
  fc.constant('2026-11-20 14:09:25'),
  fc.constant('sip:'),
  fc.constant('tel:'),
);
export const lineArb = fc.array(fc.oneof(phoneArb.map((p) => ({ p })), fillerArb.map((f) => ({ f }))), { minLength: 1, maxLength: 12 });

