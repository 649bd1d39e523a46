import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Engine } from "../engine/engine.js";

/** Options of {@link startMetrics}. */
export interface MetricsOptions {
  /** The address to listen on, and only there (`127.0.0.1`, `::1`, `0.0.0.0`...). */
  host: string;
  /** The port; 0 picks a free one (see the returned `url`). */
  port: number;
  /** The engine whose state is read at each scrape. */
  engine: Engine;
  /** The last source status of each node (the monitor's `statuses`). */
  statuses: () => ReadonlyMap<string, { state: string }>;
  /** Also export the process's own metrics (`process_*`, `nodejs_*`: memory, CPU, event-loop lag). Default true. */
  processMetrics?: boolean;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** Where to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the engine's state as Prometheus metrics on `GET /metrics` (`--metrics HOST:PORT`). Every value
 * is read from the engine when scraped, so nothing is done on the ingest path. Only `/metrics` is served;
 * anything else is 404. Resolves once listening; rejects when the address cannot be bound.
 */
export async function startMetrics(o: MetricsOptions): Promise<MetricsServer> {
  const registry = metricsRegistry(o.engine, o.statuses);
  if (o.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const server = createServer((req, res) => {
    void serve(registry, req, res);
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`--metrics ${hostPort(o.host, o.port)}: ${err.message}`));
    server.once("error", onError);
    server.listen(o.port, o.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  // An error after listening (none is expected) must not bring the monitor down.
  server.on("error", () => {});

  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${hostPort(addr.address, addr.port)}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (scrapers keep theirs open) would hold close() up forever.
        server.closeAllConnections();
        registry.clear();
      });
      return closing;
    },
  };
}

async function serve(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found: try /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end();
      return;
    }
    const body = await registry.metrics();
    res.writeHead(200, { "Content-Type": registry.contentType });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(`${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/**
 * A registry of its own (not prom-client's global one) whose metrics are computed from the engine at each
 * scrape. Cumulative counts (`*_total`) are counters, the rest gauges. Exported for tests.
 */
export function metricsRegistry(
  engine: Engine,
  statuses: () => ReadonlyMap<string, { state: string }>,
): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: "legowatch_nr_queued",
    help: "Requests queued on an M thread-pool worker, from its last statistics line.",
    labelNames: ["node", "worker"] as const,
    registers,
    collect() {
      this.reset();
      for (const n of engine.nodes.values()) {
        for (const w of n.workers.values()) this.set({ node: n.name, worker: String(w.id) }, w.queued);
      }
    },
  });

  new Gauge({
    name: "legowatch_worker_in_handler",
    help: "1 when an M thread-pool worker was in its handler at its last statistics line.",
    labelNames: ["node", "worker"] as const,
    registers,
    collect() {
      this.reset();
      for (const n of engine.nodes.values()) {
        for (const w of n.workers.values()) {
          this.set({ node: n.name, worker: String(w.id) }, w.inHandler ? 1 : 0);
        }
      }
    },
  });

  new Counter({
    name: "legowatch_events_total",
    help: "Parsed console events, by node and event type.",
    labelNames: ["node", "type"] as const,
    registers,
    collect() {
      this.reset();
      for (const n of engine.nodes.values()) {
        for (const [type, count] of Object.entries(n.counts)) {
          if (count !== undefined) this.inc({ node: n.name, type }, count);
        }
      }
    },
  });

  new Gauge({
    name: "legowatch_alerts_firing",
    help: "Alerts firing now, by rule and severity (0 for a rule and severity that fired before).",
    labelNames: ["rule", "severity"] as const,
    registers,
    collect() {
      this.reset();
      for (const a of engine.all) {
        this.inc({ rule: a.rule, severity: a.severity }, a.state === "firing" ? 1 : 0);
      }
    },
  });

  new Counter({
    name: "legowatch_alerts_total",
    help: "Alerts raised since start, by rule and severity (repeats folded into an alert count once).",
    labelNames: ["rule", "severity"] as const,
    registers,
    collect() {
      this.reset();
      for (const a of engine.all) this.inc({ rule: a.rule, severity: a.severity }, 1);
    },
  });

  new Gauge({
    name: "legowatch_source_up",
    help: "1 when the node's console source is connected.",
    labelNames: ["node"] as const,
    registers,
    collect() {
      this.reset();
      for (const [node, s] of statuses()) this.set({ node }, s.state === "connected" ? 1 : 0);
    },
  });

  new Counter({
    name: "legowatch_lines_total",
    help: "Console lines read, by node.",
    labelNames: ["node"] as const,
    registers,
    collect() {
      this.reset();
      for (const n of engine.nodes.values()) this.inc({ node: n.name }, n.lines);
    },
  });

  return registry;
}

/** `host:port`, with an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
