import { describe, expect, it } from 'vitest';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { acceptsGzip, crc32Combine, GzipMembers, joinPlain, packAll, Packed, plainChunks, plainLength } from '../../src/http/gzipBody.js';

// /metrics compresses its kept Buffers one deflate segment each, keeps the segments beside them and joins them into
// one gzip member: read back it must be the plain body, and an unchanged Buffer must not be compressed again.

const chunk = (i: number, n = 2000) => Buffer.from(Array.from({ length: n }, (_, k) => `numrep_number_calls{number="+1202555${String(i * 10_000 + k).padStart(4, '0')}",pool="default",window="24h"} ${k % 7}\n`).join(''));

describe('gzip body', () => {
  it('read back, it is the plain body; kept Buffers are compressed once', async () => {
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
    expect(again[1]).toBe(first[1]); // [0] is the header
    expect(again[3]).toBe(first[4]);
    expect(gunzipSync(Buffer.concat(again)).equals(Buffer.concat([chunks[0], fresh, chunks[3]]))).toBe(true);
    // An equal Buffer that is another object is compressed again (identity, not content, is the key).
    await g.of([Buffer.from(chunks[0])]);
    expect(g.lastCompressedBytes).toBe(chunks[0].length);
  });

  it('is one gzip member (readers that stop after the first member, as curl --compressed does, get it all)', async () => {
    const body = Buffer.concat(await new GzipMembers().of([chunk(0), chunk(1), chunk(2)]));
    const plain = Buffer.concat([chunk(0), chunk(1), chunk(2)]);
    // A single-member reader: inflate the deflate stream after the 10-byte header; it must end exactly at the trailer.
    const inflated = inflateRawSync(body.subarray(10, body.length - 8));
    expect(inflated.equals(plain)).toBe(true);
    expect(body.readUInt32LE(body.length - 8)).toBe(crc32(plain));
    expect(body.readUInt32LE(body.length - 4)).toBe(plain.length);
  });

  it('crc32Combine is the CRC-32 of the concatenation', () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const [la, lb] of [[0, 0], [1, 0], [0, 1], [5, 3], [1000, 1], [3, 65_537], [70_000, 123_457]]) {
      const a = Buffer.from(Array.from({ length: la }, () => rnd() & 255));
      const b = Buffer.from(Array.from({ length: lb }, () => rnd() & 255));
      expect(crc32Combine(crc32(a), crc32(b), b.length), `${la}+${lb}`).toBe(crc32(Buffer.concat([a, b])));
    }
  });

  it('segments kept compressed (Packed) pass through as they are and read back, mixed with plain Buffers, as the plain body', async () => {
    const plain = [chunk(4), Buffer.alloc(0), chunk(5, 7)];
    const packed = await packAll(plain);
    expect(packed.map((p) => p.length)).toEqual(plain.map((b) => b.length));
    for (let i = 0; i < plain.length; i++) expect(packed[i].text().equals(plain[i])).toBe(true);
    const head = Buffer.from('# HELP numrep_number_calls x\n');
    const body = [head, packed[0], packed[1], Buffer.from('tail 1\n'), packed[2]];
    const want = Buffer.concat([head, plain[0], plain[1], Buffer.from('tail 1\n'), plain[2]]);
    const g = new GzipMembers();
    const wire = await g.of(body);
    expect(wire).toContain(packed[0].seg); // not compressed again
    expect(g.lastCompressedBytes).toBe(head.length + 'tail 1\n'.length);
    expect(gunzipSync(Buffer.concat(wire)).equals(want)).toBe(true);
    const handed: Buffer[] = [];
    for await (const c of plainChunks(body)) handed.push(c);
    expect(handed.length).toBe(body.length); // one plain Buffer per chunk, in order
    expect(Buffer.concat(handed).equals(want)).toBe(true); // a scraper without gzip
    expect(plainLength(body)).toBe(want.length); // Content-Length without inflating
    expect(joinPlain(body).equals(want)).toBe(true);
    expect(new Packed(Buffer.alloc(0), 0, 0).text().length).toBe(0);
  });

  it('a kept segment holds a backing store of its own size (not zlib\'s 16 KiB output buffer)', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => Buffer.from(`numrep_number_calls_total{number="+1202555${1000 + i}"} ${i}\n`.repeat(40 + i)));
    const packed = await packAll(texts);
    for (const [i, p] of packed.entries()) {
      expect(p.seg.length).toBeLessThan(4096);
      expect(p.seg.buffer.byteLength).toBe(p.seg.length);
      expect(p.text().equals(texts[i])).toBe(true);
    }
  });

  it('empty bodies and empty chunks still make a valid gzip stream', async () => {
    const g = new GzipMembers();
    expect(gunzipSync(Buffer.concat(await g.of([Buffer.alloc(0), Buffer.from('\n')]))).toString()).toBe('\n');
    expect(gunzipSync(Buffer.concat(await g.of([]))).length).toBe(0);
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
