// The caller map: the number an extension presents when it dials out.
//
// Many PBXes log the extension in the CDR (`src` 101) while the outbound route sets the caller
// ID the carrier sees (a DID). `caller_map` (config key, `--caller-map FILE`) is a CSV
// `extension,number`, e.g.
//     extension,number
//     101,+12025550101
//     102,2025550102        (national numbers read with the default country code / region)
// An extension without an entry that dials an outside number is skipped as `no_caller_id`.

import { MapFileError, parseTwoColumnMap, readMapFile } from '../model/carrier.js';
import { normalizePhone, partyText, type NumberPlan } from '../model/phone.js';

export type CallerMap = ReadonlyMap<string, string>;

/** Parse a caller map; the extension is matched as written (trimmed), the number normalised to E.164. */
export function parseCallerMap(text: string, file: string, plan: NumberPlan | string = '1'): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of parseTwoColumnMap(text, file, 'extension', 'number', (v) => {
    const n = normalizePhone(v, plan);
    return n.ok ? n.e164 : '';
  })) {
    const ext = partyText(r.key);
    const prev = map.get(ext);
    if (prev !== undefined && prev !== r.value) throw new MapFileError(file, r.line, `extension "${r.key}" already mapped to another number`);
    map.set(ext, r.value);
  }
  return map;
}

export function loadCallerMap(file: string, plan: NumberPlan | string = '1'): Map<string, string> {
  return parseCallerMap(readMapFile(file), file, plan);
}
