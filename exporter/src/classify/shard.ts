// `--shard i/n`: n exporters read the same sources and each keeps the caller numbers that hash to
// its index (docs/scaling.md). Judged in the classification stage, on the presented caller (after
// the caller map), so a number is always in exactly one shard.

/**
 * The shard of a caller number: FNV-1a (32 bit) of its E.164 text, modulo n. Stable across
 * restarts, versions and machines (pinned by test/perf/shard.test.ts), so every exporter agrees.
 */
export function shardOf(number: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < number.length; i++) {
    h ^= number.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}
