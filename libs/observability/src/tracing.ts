import { randomBytes } from 'node:crypto';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context with the OpenTelemetry API. The propagator and the
 * context manager are always installed, so `traceparent` travels from a
 * request through timeline.commands to the outbox and timeline.events. An SDK
 * that records and exports spans is loaded only when OTEL_TRACES_EXPORTER asks
 * for one; without it every span is a non-recording one that carries its
 * parent's context, which costs next to nothing.
 */

export type TracesExporter = 'none' | 'otlp' | 'console';

export interface TracingSettings {
  exporter: TracesExporter;
  serviceName: string;
}

interface Exporting {
  forceFlush(): Promise<void>;
}

let installed = false;
let exporting: Promise<Exporting | null> = Promise.resolve(null);
let recording = false;

/** Installs propagation once per process, and the SDK when an exporter is configured. Idempotent. */
export function setupTracing(settings: TracingSettings): Promise<void> {
  if (!installed) {
    installed = true;
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    if (settings.exporter !== 'none') {
      recording = true;
      exporting = startSdk(settings);
    }
  }
  return exporting.then(() => undefined);
}

/** Sends the spans still buffered; for shutdown. */
export async function flushTraces(): Promise<void> {
  await (await exporting)?.forceFlush();
}

/** True when spans are recorded and exported (the SDK is loaded). */
export function tracesAreRecorded(): boolean {
  return recording;
}

async function startSdk({ exporter, serviceName }: TracingSettings): Promise<Exporting> {
  // Loaded lazily: a service that exports no traces never loads the SDK.
  const { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const spanExporter = exporter === 'otlp' ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter() : new ConsoleSpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(spanExporter)],
  });
  trace.setGlobalTracerProvider(provider);
  return provider;
}

export const tracer = () => trace.getTracer('timeline-service');

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The trace context a caller or a record sent in its `traceparent`/`tracestate` headers. */
export function extractTraceContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/**
 * The server span of a request, child of the caller's trace context. A caller
 * without one starts a new trace here, also when spans are not recorded.
 */
export function startRequestSpan(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Record<string, string>,
): { span: Span; context: Context } {
  let parent = extractTraceContext(headers);
  if (!trace.getSpanContext(parent) && !recording) {
    parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    });
  }
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

export function endRequestSpan(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** `traceparent` (and `tracestate`) of the active span, for the headers of an outgoing record. */
export function activeTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export interface DecidedRecordSpan {
  name: string;
  headers: Record<string, string | undefined>;
  attributes: Record<string, string | number>;
}

/**
 * Spans for a committed projector batch: one consumer span for the batch,
 * linked to every record's trace, and per decided command a span in the trace
 * its record carried, so the request's trace shows its decision.
 */
export function recordBatchSpans(name: string, startedAt: number, attributes: Record<string, string | number>, decided: DecidedRecordSpan[]): void {
  if (!recording) return;
  const contexts = decided.map((entry) => extractTraceContext(entry.headers));
  const links: Link[] = contexts.flatMap((ctx) => {
    const spanContext = trace.getSpanContext(ctx);
    return spanContext ? [{ context: spanContext }] : [];
  });
  const batch = tracer().startSpan(name, { kind: SpanKind.CONSUMER, startTime: startedAt, attributes, links }, ROOT_CONTEXT);
  decided.forEach((entry, index) => {
    tracer()
      .startSpan(
        entry.name,
        { kind: SpanKind.CONSUMER, startTime: startedAt, attributes: entry.attributes, links: [{ context: batch.spanContext() }] },
        contexts[index],
      )
      .end();
  });
  batch.end();
}
