import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, GzipMembers, joinPlain, packAll, Packed, plainOf } from '../../src/http/gzipBody.js';

// /metrics gzips its kept Buffers one member each and keeps the members beside them: the members read back
// as one stream must be the plain body, and an unchanged Buffer must not be compressed again.

const chunk = (i: number, n = 2000) => Buffer.from(Array.from({ length: n }, (_, k) => `numrep_number_calls{number="+1202555${String(i * 10_000 + k).padStart(4, '0')}",pool="default",window="24h"} ${k % 7}\n`).join(''));

describe('gzip members', () => {
  it('read back as one stream, they are the plain body; kept Buffers are compressed once', async () => {
    const g = new GzipMembers();
    const chunks = [chunk(0), chunk(1, 3), Buffer.from('# HELP x y\n'), chunk(2)];
    const first = await g.of(chunks);
    expect(g.lastCompressedBytes).toBe(Buffer.concat(chunks).length);
    expect(gunzipSync(Buffer.concat(first)).equals(Buffer.concat(chunks))).toBe(true);
    expect(Buffer.concat(first).length).toBeLessThan(Buffer.concat(chunks).length / 5);

    // The same Buffers (unchanged blocks) and one new one (a rebuilt block): only the new one is compressed.
    const fresh = chunk(3, 10);
    const again = await g.of([chunks[0], fresh, chunks[3]]);
    expect(g.lastCompressedBytes).toBe(fresh.length);
    expect(again[0]).toBe(first[0]);
    expect(again[2]).toBe(first[3]);
    expect(gunzipSync(Buffer.concat(again)).equals(Buffer.concat([chunks[0], fresh, chunks[3]]))).toBe(true);
    // An equal Buffer that is another object is compressed again (identity, not content, is the key).
    await g.of([Buffer.from(chunks[0])]);
    expect(g.lastCompressedBytes).toBe(chunks[0].length);
  });

  it('members kept compressed (Packed) pass through as they are and read back, mixed with plain Buffers, as the plain body', async () => {
    const plain = [chunk(4), Buffer.alloc(0), chunk(5, 7)];
    const packed = await packAll(plain);
    expect(packed.map((p) => p.length)).toEqual(plain.map((b) => b.length));
    for (let i = 0; i < plain.length; i++) expect(packed[i].text().equals(plain[i])).toBe(true);
    const head = Buffer.from('# HELP numrep_number_calls x\n');
    const body = [head, packed[0], packed[1], Buffer.from('tail 1\n'), packed[2]];
    const want = Buffer.concat([head, plain[0], plain[1], Buffer.from('tail 1\n'), plain[2]]);
    const g = new GzipMembers();
    const wire = await g.of(body);
    expect(wire[1]).toBe(packed[0].gz); // not compressed again
    expect(g.lastCompressedBytes).toBe(head.length + 'tail 1\n'.length);
    expect(gunzipSync(Buffer.concat(wire)).equals(want)).toBe(true);
    expect(Buffer.concat(await plainOf(body)).equals(want)).toBe(true); // a scraper without gzip
    expect(joinPlain(body).equals(want)).toBe(true);
    expect(new Packed(Buffer.alloc(0), 0).text().length).toBe(0);
  });

  it('empty bodies and empty chunks still make a valid gzip stream', async () => {
    const g = new GzipMembers();
    const out = await g.of([Buffer.alloc(0), Buffer.from('\n')]);
    expect(gunzipSync(Buffer.concat(out)).toString()).toBe('\n');
  });

  it('honours Accept-Encoding as RFC 9110 reads it', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('GZIP')).toBe(true);
    expect(acceptsGzip('deflate, gzip')).toBe(true);
    expect(acceptsGzip('gzip, deflate, br')).toBe(true); // Node's fetch
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8, *;q=0.1')).toBe(true); // Prometheus 2.x/3.x
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip; q=0.0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('deflate')).toBe(false);
  });
});
