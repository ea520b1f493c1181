import { StatusCode } from '../core/status.js';
import type { Engine, StageTiming } from '../engine/index.js';
import { modelName } from '../engine/spec.js';
import type { DownloadQueue } from './url-fetch/download-queue.js';

/**
 * The server's Prometheus metrics, in the text exposition format (version 0.0.4), written here
 * rather than with a client library: a handful of counters and pre-bucketed histograms.
 *
 * Cardinality is bounded by construction: requests are labelled by the fastify route pattern (never
 * the raw URL) or the RPC's name in service.proto, and models by `user/app/model` as the engine
 * reports them (only models that exist in the store reach the engine). Recording a request costs a
 * few Map lookups and array increments; the text is built only when /metrics is scraped, where the
 * engine's gauges (queues, workers, loaded bytes) are read from `engine.status()`.
 */

/** One answered request, from any transport: what metrics count and the JSON log writes. */
export interface RequestRecord {
  transport: 'http' | 'grpc' | 'grpc-web';
  /** HTTP method (`POST` for gRPC). */
  method: string;
  /** The route pattern (`/v2/users/:user_id/...`), the RPC name for gRPC, `unmatched` for a 404. */
  route: string;
  /** The path without the query string (its ids are the caller's own; logs only, never a label). */
  path: string;
  /** HTTP status (200 for gRPC, whose outcome is the v2 code). */
  status: number;
  /** The v2 status code the answer carried, when it carried one. */
  code: number | undefined;
  ms: number;
  reqId: string;
  /** The key's user, once authenticated (logs only, never a label). */
  userId: string | undefined;
}

/** Request latency buckets, seconds: a cached text predict (~1 ms) to a cold LLM load (minutes). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
/** Inputs per batch: the engine batches up to a model's max_batch_size (at most 128). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/** A histogram with fixed buckets: observe() finds one bucket and adds; render() accumulates. */
class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
  /** `name_bucket`, `name_sum`, `name_count` lines for one label set (`labels` without braces). */
  render(out: string[], name: string, labels: string): void {
    const sep = labels ? `${labels},` : '';
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      out.push(`${name}_bucket{${sep}le="${this.bounds[i]}"} ${acc}`);
    }
    out.push(`${name}_bucket{${sep}le="+Inf"} ${this.count}`);
    const braces = labels ? `{${labels}}` : '';
    out.push(`${name}_sum${braces} ${this.sum}`);
    out.push(`${name}_count${braces} ${this.count}`);
  }
}

/** Per route: its latency histogram and its count per (HTTP status, v2 code). */
interface RouteSeries {
  labels: string;
  latency: Histogram;
  /** key: outcomeKey(HTTP status, v2 code): one number, no string built per request. */
  byOutcome: Map<number, number>;
}

interface ModelSeries {
  stages: Map<StageTiming['stage'], Histogram>;
  batch: Histogram;
  promptTokens: number;
  completionTokens: number;
}

/** Escapes a label value per the exposition format (backslash, double quote, newline). */
export function labelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

const NO_CODE = -1;

export class Metrics {
  /** transport -> method -> route -> series: nested, so a request never builds a key string. */
  private readonly routes = new Map<string, Map<string, Map<string, RouteSeries>>>();
  private readonly models = new Map<string, ModelSeries>();
  /** key: outcomeKey(HTTP status, v2 code), per transport. */
  private readonly errors = new Map<string, Map<number, number>>();
  private readonly busy = new Map<string, number>();
  private readonly startedAt = Date.now() / 1000;

  /** Counts one answered request (REST, gRPC or gRPC-web). */
  readonly observeRequest = (rec: RequestRecord): void => {
    const series = this.route(rec.transport, rec.method, rec.route);
    series.latency.observe(rec.ms / 1000);
    const key = rec.status * 1e6 + (rec.code ?? NO_CODE) + 1;
    series.byOutcome.set(key, (series.byOutcome.get(key) ?? 0) + 1);
    const failed =
      rec.status >= 400 ||
      (rec.code !== undefined && rec.code !== StatusCode.SUCCESS && rec.code !== StatusCode.MIXED_STATUS);
    if (failed) {
      let byTransport = this.errors.get(rec.transport);
      if (!byTransport) this.errors.set(rec.transport, (byTransport = new Map()));
      byTransport.set(key, (byTransport.get(key) ?? 0) + 1);
    }
    if (rec.status === 429 || rec.code === StatusCode.MODEL_BUSY_PLEASE_RETRY) {
      this.busy.set(rec.transport, (this.busy.get(rec.transport) ?? 0) + 1);
    }
  };

  /** The engine's onTiming: stage latencies, and batch sizes from each predict stage. */
  readonly onTiming = (t: StageTiming): void => {
    const m = this.model(t.model);
    let h = m.stages.get(t.stage);
    if (!h) m.stages.set(t.stage, (h = new Histogram(LATENCY_BUCKETS)));
    h.observe(t.ms / 1000);
    if (t.stage === 'predict') m.batch.observe(t.inputs);
  };

  /** Tokens a generation read and wrote, by `user/app/model` (a model the store answered with). */
  countTokens(model: string, prompt: number, completion: number): void {
    const m = this.model(model);
    m.promptTokens += prompt;
    m.completionTokens += completion;
  }

  private route(transport: string, method: string, route: string): RouteSeries {
    let byMethod = this.routes.get(transport);
    if (!byMethod) this.routes.set(transport, (byMethod = new Map()));
    let byRoute = byMethod.get(method);
    if (!byRoute) byMethod.set(method, (byRoute = new Map()));
    let series = byRoute.get(route);
    if (!series) {
      series = {
        labels: `transport="${transport}",method="${labelValue(method)}",route="${labelValue(route)}"`,
        latency: new Histogram(LATENCY_BUCKETS),
        byOutcome: new Map(),
      };
      byRoute.set(route, series);
    }
    return series;
  }

  private model(name: string): ModelSeries {
    let m = this.models.get(name);
    if (!m) {
      m = { stages: new Map(), batch: new Histogram(BATCH_BUCKETS), promptTokens: 0, completionTokens: 0 };
      this.models.set(name, m);
    }
    return m;
  }

  /** The exposition text, with the engine's and the download queue's gauges read now. */
  render(engine?: Pick<Engine, 'status'>, downloads?: Pick<DownloadQueue, 'status'>): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    head(
      'sibyl_requests_total',
      'counter',
      'Requests answered, by route (or RPC), HTTP status and v2 status code.',
    );
    const allRoutes: RouteSeries[] = [];
    for (const byMethod of this.routes.values())
      for (const byRoute of byMethod.values()) for (const s of byRoute.values()) allRoutes.push(s);
    for (const s of allRoutes) {
      for (const [key, n] of s.byOutcome) {
        const { status, code } = splitOutcome(key);
        out.push(`sibyl_requests_total{${s.labels},status="${status}",code="${code}"} ${n}`);
      }
    }
    head('sibyl_request_duration_seconds', 'histogram', 'Time to answer a request, by route (or RPC).');
    for (const s of allRoutes) s.latency.render(out, 'sibyl_request_duration_seconds', s.labels);

    head(
      'sibyl_errors_total',
      'counter',
      'Requests that failed (HTTP 4xx/5xx or a v2 code other than Ok), by v2 code.',
    );
    for (const [transport, byKey] of this.errors) {
      for (const [key, n] of byKey) {
        const { status, code } = splitOutcome(key);
        out.push(`sibyl_errors_total{transport="${transport}",status="${status}",code="${code}"} ${n}`);
      }
    }
    head(
      'sibyl_busy_refusals_total',
      'counter',
      'Requests refused as busy (HTTP 429, MODEL_BUSY_PLEASE_RETRY).',
    );
    for (const [transport, n] of this.busy)
      out.push(`sibyl_busy_refusals_total{transport="${transport}"} ${n}`);

    head(
      'sibyl_inference_stage_duration_seconds',
      'histogram',
      'Engine stage time per batch (decode, predict, postprocess) or model load.',
    );
    for (const [model, m] of this.models) {
      for (const [stage, h] of m.stages) {
        h.render(
          out,
          'sibyl_inference_stage_duration_seconds',
          `model="${labelValue(model)}",stage="${stage}"`,
        );
      }
    }
    head('sibyl_inference_batch_size', 'histogram', 'Inputs per batch the engine ran.');
    for (const [model, m] of this.models) {
      if (m.batch.count > 0)
        m.batch.render(out, 'sibyl_inference_batch_size', `model="${labelValue(model)}"`);
    }
    head(
      'sibyl_generation_tokens_total',
      'counter',
      'Tokens generations read (prompt) and wrote (completion).',
    );
    for (const [model, m] of this.models) {
      if (m.promptTokens === 0 && m.completionTokens === 0) continue;
      const l = `model="${labelValue(model)}"`;
      out.push(`sibyl_generation_tokens_total{${l},kind="prompt"} ${m.promptTokens}`);
      out.push(`sibyl_generation_tokens_total{${l},kind="completion"} ${m.completionTokens}`);
    }

    if (engine) renderEngine(engine, out, head);
    if (downloads) {
      const d = downloads.status();
      head('sibyl_url_downloads_active', 'gauge', 'URL inputs downloading now, server-wide.');
      out.push(`sibyl_url_downloads_active ${d.active}`);
      head('sibyl_url_downloads_waiting', 'gauge', 'URL inputs waiting for a download slot.');
      out.push(`sibyl_url_downloads_waiting ${d.waiting}`);
    }

    head(
      'process_resident_memory_bytes',
      'gauge',
      'Resident memory of the server process (workers are threads in it).',
    );
    out.push(`process_resident_memory_bytes ${process.memoryUsage.rss()}`);
    head('process_start_time_seconds', 'gauge', 'When the server started, seconds since the epoch.');
    out.push(`process_start_time_seconds ${this.startedAt}`);
    return `${out.join('\n')}\n`;
  }
}

function renderEngine(
  engine: Pick<Engine, 'status'>,
  out: string[],
  head: (name: string, type: string, help: string) => void,
): void {
  const s = engine.status();
  head('sibyl_engine_workers', 'gauge', 'Worker threads running models (the express lane not counted).');
  out.push(`sibyl_engine_workers ${s.workers}`);
  head('sibyl_engine_max_workers', 'gauge', 'Worker threads the engine may start.');
  out.push(`sibyl_engine_max_workers ${s.maxWorkers}`);
  head('sibyl_engine_express_lane', 'gauge', '1 while the express lane thread for cheap models runs.');
  out.push(`sibyl_engine_express_lane ${s.express ? 1 : 0}`);
  head('sibyl_engine_memory_budget_bytes', 'gauge', 'Estimated model bytes the engine keeps loaded at most.');
  out.push(`sibyl_engine_memory_budget_bytes ${s.memoryBudgetBytes}`);
  // versions of one model add up: the label is the model, not the version
  const sum = (into: Map<string, number[]>, model: string, a: number, b: number) => {
    const v = into.get(model) ?? [0, 0];
    v[0]! += a;
    v[1]! += b;
    into.set(model, v);
  };
  const loaded = new Map<string, number[]>();
  for (const m of s.loaded) sum(loaded, modelName(m.spec), m.bytes, m.workers);
  const queued = new Map<string, number[]>();
  for (const q of s.queued) sum(queued, modelName(q.spec), q.inputs, q.running);
  head('sibyl_model_loaded_bytes', 'gauge', 'Estimated bytes of a loaded model, all its workers together.');
  for (const [model, [bytes]] of loaded)
    out.push(`sibyl_model_loaded_bytes{model="${labelValue(model)}"} ${bytes}`);
  head('sibyl_model_loaded_workers', 'gauge', 'Workers holding a model.');
  for (const [model, [, n]] of loaded)
    out.push(`sibyl_model_loaded_workers{model="${labelValue(model)}"} ${n}`);
  head('sibyl_model_queue_depth', 'gauge', 'Inputs waiting for a worker, per model.');
  for (const [model, [n]] of queued) out.push(`sibyl_model_queue_depth{model="${labelValue(model)}"} ${n}`);
  head('sibyl_model_running', 'gauge', 'Inputs running now, per model.');
  for (const [model, [, n]] of queued) out.push(`sibyl_model_running{model="${labelValue(model)}"} ${n}`);
}

/** One observer of requests for metrics and a request log together (either may be absent). */
export function requestObserver(
  metrics: Metrics | undefined,
  log: ((rec: RequestRecord) => void) | undefined,
): ((rec: RequestRecord) => void) | undefined {
  if (metrics && log) {
    return (rec) => {
      metrics.observeRequest(rec);
      log(rec);
    };
  }
  return metrics?.observeRequest ?? log;
}

/** The inverse of the key observeRequest makes: HTTP status * 1e6 + (v2 code or -1) + 1. */
function splitOutcome(key: number): { status: number; code: string } {
  const status = Math.floor(key / 1e6);
  const code = key - status * 1e6 - 1;
  return { status, code: code === NO_CODE ? '' : String(code) };
}
