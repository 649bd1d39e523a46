import type { ProfileEvent } from "../parse/events.js";

/** What the history reads of a node: its latest profile table and its boot count. */
export interface ProfileSource {
  profile?: ProfileEvent;
  boots: number;
}

interface Entry {
  boots: number;
  latest?: ProfileEvent;
  previous?: ProfileEvent;
}

/**
 * The last two Kernel Profile Points tables of each node. The engine keeps only the latest table;
 * this notices a new one by object identity each time it is synced with the nodes, and keeps the one
 * it replaced. A reboot (the node's boot count moved) forgets the previous boot's table: its counters
 * started over, so a delta across it would mean nothing. Pure: no clock, no parsing.
 */
export class ProfileHistory {
  private readonly byNode = new Map<string, Entry>();

  /** Looks at every node's latest table. */
  sync(nodes: ReadonlyMap<string, ProfileSource>): void {
    for (const [name, n] of nodes) this.observe(name, n);
  }

  /** Looks at one node's latest table. */
  observe(node: string, n: ProfileSource): void {
    let e = this.byNode.get(node);
    if (!e) {
      e = { boots: n.boots };
      this.byNode.set(node, e);
    }
    if (e.boots !== n.boots) {
      e.boots = n.boots;
      e.previous = undefined;
      e.latest = undefined;
    }
    if (!n.profile || n.profile === e.latest) return;
    e.previous = e.latest;
    e.latest = n.profile;
  }

  /** The newest table seen for `node`. */
  latest(node: string): ProfileEvent | undefined {
    return this.byNode.get(node)?.latest;
  }

  /** The table before it, in the same boot. */
  previous(node: string): ProfileEvent | undefined {
    return this.byNode.get(node)?.previous;
  }
}

/** One row of the latest table, with its change against the previous table. */
export interface ProfileRowChange {
  name: string;
  on: boolean;
  count: bigint;
  avgNs: bigint;
  /** Count now minus count before; undefined when there is no earlier row of that name. */
  countDelta?: bigint;
  /**
   * Change of the average in percent; undefined when there is no earlier row, null when the
   * earlier average was 0 and this one is not (no finite percentage).
   */
  avgChangePct?: number | null;
}

/** Compares the rows of `latest` with the rows of the same name in `previous`. */
export function compareProfiles(latest: ProfileEvent, previous?: ProfileEvent): ProfileRowChange[] {
  const before = new Map(previous?.rows.map((r) => [r.name, r]));
  return latest.rows.map((r) => {
    const out: ProfileRowChange = { name: r.name, on: r.on, count: r.count, avgNs: r.avgNs };
    const p = before.get(r.name);
    if (!p) return out;
    out.countDelta = r.count - p.count;
    if (p.avgNs === 0n) out.avgChangePct = r.avgNs === 0n ? 0 : null;
    else out.avgChangePct = (Number(r.avgNs - p.avgNs) / Number(p.avgNs)) * 100;
    return out;
  });
}

/** A model the history can follow: its nodes and its change notifications. */
export interface ProfileModel {
  engine: { nodes: ReadonlyMap<string, ProfileSource> };
  subscribe(listener: () => void): () => void;
}

const histories = new WeakMap<ProfileModel, ProfileHistory>();

/**
 * The history of `model`, created and subscribed on first call: from then on it is synced on every
 * model change, whether the profile view is open or not. Call it once when the screen starts so that
 * tables printed while the view is closed are remembered.
 */
export function profileHistoryOf(model: ProfileModel): ProfileHistory {
  let h = histories.get(model);
  if (!h) {
    const history = new ProfileHistory();
    h = history;
    histories.set(model, history);
    model.subscribe(() => history.sync(model.engine.nodes));
  }
  h.sync(model.engine.nodes);
  return h;
}
