import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { secretFor } from './secret.js';

/**
 * What the store keeps of calls still in flight — open SIP dialogs, a push provider's unfinished calls, a reader's
 * pending legs — holds the consumer's number until the call ends. It is sealed at rest (AES-256-GCM, under a key
 * derived from the database's secret, `<db>.secret`), so a copy of the database alone shows no consumer number,
 * as with the hashed call keys and dials. A text stored before sealing existed is read as it is and sealed at its
 * next save. A database in memory is never sealed: it dies with the process.
 */
const PREFIX = 's1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class StateSealer {
  private readonly key: Buffer;

  constructor(secret: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), 'numrep sealed state v1', 32));
  }

  /** The sealer for a database file (its secret is made on first use, as for call keys), or null for ':memory:'. */
  static forDatabase(file: string): StateSealer | null {
    return file === ':memory:' ? null : new StateSealer(secretFor(file));
  }

  seal(text: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /**
   * The text, or null when it was sealed under another secret (the secret file was replaced) or damaged: the state
   * is then lost, like the call keys the old secret made.
   */
  open(stored: string): string | null {
    if (!stored.startsWith(PREFIX)) return stored; // written by a numrep before sealing
    const b = Buffer.from(stored.slice(PREFIX.length), 'base64');
    if (b.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, b.subarray(0, IV_BYTES));
      d.setAuthTag(b.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([d.update(b.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/** Whether a stored text is sealed (for tests and `numrep` tools that must not read it as JSON). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}
