import type { DispositionMap } from '../model/disposition.js';
import type { RawCall } from '../model/types.js';

/** Where a line came from, for error messages and the quarantine file. */
export interface LineContext {
  file: string;
  /** 1-based line number within the file. */
  line: number;
}

/** A record the reader refused, with a short machine reason and a human detail. */
export interface Rejection {
  reason: string; // snake_case, bounded set: used as a metric label
  detail: string; // human sentence; must never contain the called number
}

export type LineResult =
  | { kind: 'records'; records: RawCall[] }
  | { kind: 'skip' } // header, comment, blank, or a line that is only state (e.g. Kamailio INVITE 200)
  | { kind: 'reject'; rejection: Rejection };

/**
 * A format reader is a line parser with optional state that survives restarts:
 * `snapshot()` is committed with the file offset in one transaction, and `restore()`
 * gets it back, so calls straddling a restart are neither lost nor counted twice.
 */
export interface Reader {
  readonly format: string;
  parseLine(line: string, ctx: LineContext): LineResult;
  /**
   * Optional fast path over the raw bytes of one line (without its newline or CR): the record
   * `parseLine` would return for that line, `'skip'`, or null when the line is not the plain case
   * the fast path handles (the ingestor then decodes it and calls `parseLine`). Must agree with
   * `parseLine` exactly wherever it does not return null (checked by test/readers/bytes.test.ts).
   * A reader with state (Kamailio's held calls) returns its records as an array, which the ingestor
   * takes as they are (a record in the future is rejected, never read again through `parseLine`), and
   * returns null only before it has changed any state.
   * `clean`: the caller has checked that the bytes are ASCII without NUL (ingest/bytes.ts isCleanAscii).
   */
  parseBytes?(buf: Buffer, start: number, end: number, clean: boolean): RawCall | RawCall[] | 'skip' | null;
  /**
   * Binary formats cut into records by their own lengths (packet captures: ingest/pcap/capture.ts): the
   * bytes of whole records at the start of `buf` (the record ends in `frameEnds`), -1 when the lengths
   * cannot be true; and one record as `parseLine` would answer for a line.
   */
  frameEnd?(buf: Buffer, len: number, atFileStart: boolean): number;
  frameEnds?: number[];
  parseFrame?(buf: Buffer, start: number, end: number, atFileStart: boolean): LineResult;
  /**
   * Every line after the header (if any) parses the same whatever lines were read before it: a read step may then
   * leave its last lines to the next step and have them parsed again there (FileIngestor, to keep a call's legs in
   * one step). Readers that pair lines (INVITE and BYE, SIP dialogs) must not set it.
   */
  readonly independentLines?: boolean;
  /** Records still pending (e.g. answered calls waiting for BYE) that should be flushed at end of a one-shot run. */
  flush?(): RawCall[];
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** Which acc `log_extra` keys the Kamailio reader reads. */
export interface KamailioOptions {
  callerKey: string;
  calleeKey: string;
  domainKey: string;
  /** Extra key holding an explicit carrier (optional). */
  carrierKey?: string;
  /** Extra key holding a STIR/SHAKEN attestation (optional). */
  attestKey?: string;
  /** Extra key holding the call's direction (inbound/outbound/internal, in/out, …) (optional). */
  directionKey?: string;
  /** Extra key holding where the call came from (source IP or domain), for the trunk-map inbound rule (default src_ip). */
  sourceKey?: string;
  /** A held answered call with no BYE after this long is emitted with talk 0. Default 6 h. */
  maxCallSeconds?: number;
}

export interface ReaderOptions {
  /** Default country code for national numbers, digits only (default '1'). */
  defaultCountryCode: string;
  /** ISO 3166 region for national numbers (e.g. 'UZ'); its calling code must agree with defaultCountryCode when both are set. */
  defaultRegion?: string;
  /** IANA zone or 'UTC' for formats that log local time without an offset. */
  timezone: string;
  /** Generic CSV: column mapping; FreeSWITCH custom template: ${var} list. */
  columns?: Record<string, string>;
  template?: string[];
  /** Kamailio acc extra keys (defaults src_user, dst_user, dst_domain). */
  kamailio?: KamailioOptions;
  /** SIP message logs (sipp, sofia): dialog timeouts, which side's INVITEs count, date of time-only stamps. */
  sip?: { timeoutSeconds?: number; maxCallSeconds?: number; direction?: 'sent' | 'received' | 'both'; date?: string };
  /** Dialer result values → disposition (model/disposition.ts; config `dispositions` adds to the built-in ones). */
  dispositions?: DispositionMap;
}
