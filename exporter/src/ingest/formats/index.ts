// The format registry: detection by content and reader construction.
//
// To add a format, append a FormatSpec to FORMATS (or call registerFormat): an id, a
// `detect` that scores the first lines of a file, and a `create`. Detection asks every
// format and takes the highest positive score (ties: registry order).

import type { Reader, ReaderOptions } from '../reader.js';
import { CSV_UNTERMINATED_QUOTE, cleanLine, splitCsvLine } from '../csv.js';
import { AsteriskReader, looksLikeAsterisk } from './asterisk.js';
import { FreeswitchReader, looksLikeFreeswitch } from './freeswitch.js';
import { GenericReader, looksLikeGenericHeader } from './generic.js';
import { KamailioReader, looksLikeKamailio, looksLikeKamailioLog } from './kamailio.js';
import { SippReader, looksLikeSipp } from './sipp.js';
import { SofiaReader, looksLikeSofia } from './sofia.js';
import { CaptureReader } from '../pcap/capture.js';

export interface FormatSpec {
  id: string;
  description: string;
  /**
   * Score 0..1 for how sure this format is about these lines (first non-empty lines of a
   * file, '\r' and BOM already stripped). 0 = not this format.
   */
  detect(lines: string[]): number;
  create(options?: Partial<ReaderOptions>): Reader;
}

/** Fraction of CSV lines for which `pred` holds (lines that fail to split count as misses). */
function csvShare(lines: string[], pred: (fields: string[]) => boolean): number {
  if (lines.length === 0) return 0;
  const f: string[] = [];
  let hits = 0;
  for (const l of lines) if (splitCsvLine(l, f) !== CSV_UNTERMINATED_QUOTE && pred(f)) hits++;
  return hits / lines.length;
}

export const FORMATS: FormatSpec[] = [
  {
    id: 'kamailio',
    description: 'Kamailio acc module log lines (syslog or stderr), "ACC: transaction answered: …"',
    // Any acc line wins; a Kamailio log with no acc line yet (startup noise) is still Kamailio.
    detect: (lines) => {
      if (lines.some(looksLikeKamailio)) return 0.9 + 0.1 * (lines.filter(looksLikeKamailio).length / lines.length);
      return lines.filter(looksLikeKamailioLog).length / lines.length >= 0.5 ? 0.6 : 0;
    },
    create: (o) => new KamailioReader(o),
  },
  {
    id: 'asterisk',
    description: 'Asterisk cdr_csv Master.csv (16, 18 or 21 columns)',
    detect: (lines) => csvShare(lines, looksLikeAsterisk),
    create: (o) => new AsteriskReader(o),
  },
  {
    id: 'freeswitch',
    description: 'FreeSWITCH mod_cdr_csv (default 13-field or example 15-field template; custom via options.template)',
    detect: (lines) => csvShare(lines, looksLikeFreeswitch),
    create: (o) => new FreeswitchReader(o),
  },
  {
    id: 'generic',
    description: 'CSV with a header row, columns mapped by options.columns',
    detect: (lines) => (lines.length > 0 && looksLikeGenericHeader(lines[0]) ? 0.8 : 0),
    create: (o) => new GenericReader(o),
  },
  {
    id: 'sipp',
    description: 'sipp message trace (-trace_msg): SIP messages correlated into calls by Call-ID',
    detect: (lines) => (looksLikeSipp(lines) ? 0.95 : 0),
    create: (o) => new SippReader(o),
  },
  {
    id: 'sofia',
    description: 'FreeSWITCH sofia siptrace ("send N bytes to udp/… at HH:MM:SS.ffffff:"): SIP messages correlated into calls',
    detect: (lines) => (looksLikeSofia(lines) ? 0.95 : 0),
    create: (o) => new SofiaReader(o),
  },
  {
    id: 'pcap',
    description: 'pcap / pcapng packet captures (tcpdump, Wireshark): SIP over UDP and TCP, and HEP, correlated into calls',
    // Binary: recognised by its magic bytes when a file is opened (fileSource.ts), never from text lines.
    detect: () => 0,
    create: (o) => new CaptureReader(o),
  },
];

/** Add (or replace) a format. */
export function registerFormat(spec: FormatSpec): void {
  const i = FORMATS.findIndex((f) => f.id === spec.id);
  if (i >= 0) FORMATS[i] = spec;
  else FORMATS.push(spec);
}

export function formatIds(): string[] {
  return FORMATS.map((f) => f.id);
}

/**
 * The format of a file from its first lines (pass ~10; raw lines are fine: '\r', BOM and
 * blank lines are handled here). Null when nothing matches with at least half the lines.
 */
export function detectFormat(firstLines: string[]): string | null {
  const lines = firstLines.map((l) => cleanLine(l)).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  let best: string | null = null;
  let bestScore = 0.5 - 1e-9;
  for (const f of FORMATS) {
    const s = f.detect(lines);
    if (s > bestScore) {
      best = f.id;
      bestScore = s;
    }
  }
  return best;
}

/** A reader for a format id. Throws on an unknown id or bad options (unknown time zone, …). */
export function createReader(format: string, options?: Partial<ReaderOptions>): Reader {
  const f = FORMATS.find((x) => x.id === format);
  if (!f) throw new Error(`unknown format "${format}" (known: ${formatIds().join(', ')})`);
  return f.create(options);
}
