import type { WindowName } from '../model/types.js';
import type { Vector } from './vector.js';

/**
 * Sums per window made when read: each window is a getter that asks `view` for its vector, so nothing keeps a
 * Float64Array per window (at 10k numbers the kept ones were ~175k objects). Reads as the Record<WindowName, Vector>
 * it stands for; its windows are getters, not own keys: read them by name, not with Object.entries.
 */
export abstract class WindowViews implements Record<WindowName, Vector> {
  protected abstract view(name: WindowName): Vector;

  get '1h'(): Vector {
    return this.view('1h');
  }
  get '24h'(): Vector {
    return this.view('24h');
  }
  get '48h'(): Vector {
    return this.view('48h');
  }
  get '72h'(): Vector {
    return this.view('72h');
  }
  get '7d'(): Vector {
    return this.view('7d');
  }
}
