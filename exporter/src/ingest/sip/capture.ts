// SIP captured on the wire (HEP packets, pcap files) into the dialog tracker the SIP log readers use:
// every initial INVITE opens a dialog (a capture sees both sides, and a proxy's forwarded copy of an
// INVITE is the same dialog), retransmissions, forks, CANCEL→487, 603+/608, PASSporT attestation and
// talk time from 200 to BYE exactly as for sipp and sofia traces (dialogs.ts). The records do not
// state a direction: classification decides (the INVITE's source address is where the call came in,
// for the trunk-map rule).

import type { ReaderOptions } from '../reader.js';
import { ReaderKit, withDefaults } from '../formats/common.js';
import { DialogTracker, sipOptions, type DialogSnapshot, type Rejected, type SipCall } from './dialogs.js';
import { sipFromBytes } from './packet.js';

export class CaptureDialogs {
  readonly tracker: DialogTracker;

  constructor(options: Partial<ReaderOptions> | undefined, source: string) {
    const o = withDefaults(options);
    const kit = new ReaderKit(o);
    this.tracker = new DialogTracker(sipOptions({ ...o.sip, direction: 'both' }), { callers: kit.callers, called: kit.called }, source, { statedDirection: false });
  }

  /**
   * One captured SIP message (bytes start..end), at capture time `ts` (UTC ms), sent from `src` (an IP
   * address). Finished calls go to `out`. 'not_sip' when the bytes are no SIP message.
   */
  onPayload(buf: Buffer, start: number, end: number, ts: number, src: string | undefined, out: SipCall[]): Rejected | 'not_sip' | null {
    const msg = sipFromBytes(buf, start, end);
    if (msg === null) return 'not_sip';
    return this.tracker.onMessage(msg, ts, 'sent', out, src);
  }

  get openCount(): number {
    return this.tracker.openCount;
  }

  snapshot(): DialogSnapshot {
    return this.tracker.snapshot();
  }

  restore(s: DialogSnapshot | null | undefined): void {
    this.tracker.restore(s);
  }
}
