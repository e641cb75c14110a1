import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalizePhone, PhoneNormalizer, toE164 } from '../../src/model/phone.js';

describe('toE164 (default country code 1)', () => {
  const ok: Array<[string, string]> = [
    ['+12025550101', '+12025550101'],
    ['2025550101', '+12025550101'],
    ['12025550101', '+12025550101'],
    ['(202) 555-0101', '+12025550101'],
    ['202.555.0101', '+12025550101'],
    ['+1 202 555 0101', '+12025550101'],
    ['sip:+12025550101@carrier.example.net;user=phone', '+12025550101'],
    ['sips:2025550101@10.0.0.1:5061', '+12025550101'],
    ['tel:+1-202-555-0101;ext=12', '+12025550101'],
    ['"Acme Health" <sip:+12025550101@pbx>', '+12025550101'],
    ['"8001" <2025550101>', '+12025550101'],
    ['011 44 20 7946 0018', '+442079460018'],
    ['0044 20 7946 0018', '+442079460018'],
    ['+44 20 7946 0018', '+442079460018'],
    ['  +12025550101  ', '+12025550101'],
  ];
  for (const [input, want] of ok) it(`${input} → ${want}`, () => expect(toE164(input)).toBe(want));

  const bad = ['', '8001', '100', 'anonymous', 'Restricted', 'unknown', '+', '202555010', '202555010123', '0255550101', '1025550101', '2021550101', '+1202555010', '+1234567890123456', 's', '*67'];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      const r = normalizePhone(input);
      expect(r.ok).toBe(false);
      if (!r.ok && input.replace(/\D/g, '').length > 3) expect(r.why).not.toContain(input.replace(/\D/g, ''));
    });
  }
});

describe('other default country codes', () => {
  it('treats a leading 0 as the national trunk prefix', () => {
    expect(toE164('020 7946 0018', '44')).toBe('+442079460018');
    expect(toE164('0151 12345678', '49')).toBe('+4915112345678');
  });
  it('takes long digit strings without + as international', () => {
    expect(toE164('442079460018', '44')).toBe('+442079460018');
  });
  it('still rejects extensions', () => {
    expect(toE164('8001', '44')).toBeNull();
  });
});

describe('numbers of every country (libphonenumber-js)', () => {
  it('national numbers by calling code or region, trunk prefixes and international prefixes', () => {
    expect(toE164('788888484', '998')).toBe('+998788888484'); // Tashkent, 9 digits, no trunk prefix
    expect(toE164('788888484', { callingCode: '998', region: 'UZ' })).toBe('+998788888484');
    expect(toE164('998788888484', '998')).toBe('+998788888484'); // the country code already there
    expect(toE164('8 912 345-67-89', '7')).toBe('+79123456789'); // Russia's trunk prefix 8
    expect(toE164('810 44 20 7946 0018', '7')).toBe('+442079460018'); // Russia's international prefix 810
    expect(toE164('0151 12345678', '49')).toBe('+4915112345678');
    expect(toE164('00 998 90 123 45 67', '1')).toBe('+998901234567'); // 00 where the NANP's own is 011
    expect(toE164('+998 90 123 45 67')).toBe('+998901234567');
  });

  it('rejects what is no number, saying what the field holds without echoing the digits', () => {
    for (const [text, kind] of [['101', 'extension'], ['*97', 'extension'], ['s', 'service'], ['voicemail', 'service'], ['&park()', 'service'], ['anonymous', 'anonymous'], ['', 'anonymous'], ['12ab34', 'invalid'], ['99878888848', 'invalid']] as const) {
      const r = normalizePhone(text, '998');
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.kind).toBe(kind);
        if (/\d{4,}/.test(text)) expect(r.why).not.toContain(text.replace(/\D/g, ''));
      }
    }
  });

  it('the NANP fast path agrees with libphonenumber-js on every 10- and 11-digit shape', async () => {
    const { parsePhoneNumberFromString } = await import('libphonenumber-js/min');
    const digit = fc.constantFrom('0', '1', '2', '5', '9');
    fc.assert(
      fc.property(fc.constantFrom('', '1', '+1'), fc.array(digit, { minLength: 10, maxLength: 10 }).map((a) => a.join('')), (p, d) => {
        const r = normalizePhone(p + d, '1');
        const lib = parsePhoneNumberFromString(p + d, 'US');
        const structural = /^[2-9]\d\d[2-9]\d{6}$/.test(d);
        expect(r.ok).toBe(Boolean(lib?.isPossible()) && structural);
        if (r.ok) expect(r.e164).toBe(lib!.number);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('PhoneNormalizer', () => {
  it('memoises and stays bounded', () => {
    const n = new PhoneNormalizer('1', 2);
    expect(n.normalize('2025550101')).toEqual({ ok: true, e164: '+12025550101' });
    expect(n.normalize('2025550101')).toEqual({ ok: true, e164: '+12025550101' });
    n.normalize('2025550102');
    n.normalize('2025550103');
    expect(n.normalize('8001').ok).toBe(false);
  });
});
