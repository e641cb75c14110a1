import { describe, expect, it } from 'vitest';
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
