/**
 * Latency against due time, as a picture: one dot per request (x = when it was due, y = how long its answer took,
 * log scale, colour = status), optionally further series (e.g. when each change reached an SSE subscriber) and
 * vertical markers for what happened meanwhile (a checkpoint, a GC pause, a new database connection). A few
 * stalls and a broad tail look different here, where a percentile cannot tell them apart. The SVG is built by
 * pure code (`latencyPlotSvg`); `writeLatencyPlot` renders it to PNG with resvg.
 */
import { writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

export interface PlotPoint {
  /** Seconds from the start of the load. */
  atS: number;
  latencyMs: number;
}

export interface PlotSeries {
  name: string;
  colour: string;
  points: PlotPoint[];
}

export interface PlotMarker {
  /** Seconds from the start of the load. */
  atS: number;
  label: string;
  colour: string;
}

export interface LatencyPlot {
  title: string;
  /** Drawn in this order: the last series lies on top. */
  series: PlotSeries[];
  markers?: PlotMarker[];
  width?: number;
  height?: number;
}

/** A scale from data to pixels, with its ticks. */
export interface Axis {
  toPixel(value: number): number;
  ticks: { value: number; label: string }[];
}

const MARGIN = { left: 64, right: 16, top: 36, bottom: 84 };
const MIN_LATENCY_MS = 0.1;

/** The colour of an answer's status: 2xx green (202 amber), 503 red, other 4xx/5xx purple, no answer black. */
export function statusColour(status: number): string {
  if (status === 0) return '#000000';
  if (status === 202) return '#e69f00';
  if (status >= 200 && status < 300) return '#009e73';
  if (status === 503) return '#d55e00';
  return '#cc79a7';
}

/** Answers grouped into one series per status, in order of status. */
export function seriesByStatus(answers: { atS: number; latencyMs: number; status: number }[]): PlotSeries[] {
  const byStatus = new Map<number, PlotPoint[]>();
  for (const { atS, latencyMs, status } of answers) {
    const points = byStatus.get(status) ?? [];
    points.push({ atS, latencyMs });
    byStatus.set(status, points);
  }
  return [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, points]) => ({ name: status === 0 ? 'no answer' : `HTTP ${status}`, colour: statusColour(status), points }));
}

/** Powers of ten from below `min` to above `max` (milliseconds), mapped onto [bottom, top] pixels. */
export function logAxis(minMs: number, maxMs: number, bottom: number, top: number): Axis {
  const low = Math.floor(Math.log10(Math.max(MIN_LATENCY_MS, minMs)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(MIN_LATENCY_MS, maxMs))));
  const toPixel = (value: number) => bottom - ((Math.log10(Math.max(MIN_LATENCY_MS, value)) - low) / (high - low)) * (bottom - top);
  const ticks = [];
  for (let power = low; power <= high; power++) {
    const value = 10 ** power;
    ticks.push({ value, label: value >= 1_000 ? `${value / 1_000} s` : `${value} ms` });
  }
  return { toPixel, ticks };
}

/** From 0 to `max` seconds onto [left, right] pixels, with a tick every 1, 2, 5, 10, ... seconds (at most about 10). */
export function timeAxis(maxS: number, left: number, right: number): Axis {
  const span = Math.max(1, Math.ceil(maxS));
  const step = [1, 2, 5, 10, 20, 30, 60, 120, 300].find((candidate) => span / candidate <= 10) ?? Math.ceil(span / 10);
  const end = Math.ceil(span / step) * step;
  const toPixel = (value: number) => left + (value / end) * (right - left);
  const ticks = [];
  for (let value = 0; value <= end; value += step) ticks.push({ value, label: `${value} s` });
  return { toPixel, ticks };
}

export function latencyPlotSvg(plot: LatencyPlot): string {
  const width = plot.width ?? 1200;
  const height = plot.height ?? 600;
  const [left, right, top, bottom] = [MARGIN.left, width - MARGIN.right, MARGIN.top, height - MARGIN.bottom];
  const points = plot.series.flatMap((series) => series.points);
  const latencies = points.map((point) => point.latencyMs);
  const x = timeAxis(Math.max(0, ...points.map((point) => point.atS), ...(plot.markers ?? []).map((marker) => marker.atS)), left, right);
  const y = logAxis(latencies.length ? Math.min(...latencies) : 1, latencies.length ? Math.max(...latencies) : 1_000, bottom, top);
  const number = (value: number) => value.toFixed(1);
  const text = (at: { x: number; y: number }, content: string, attributes = '') =>
    `<text x="${number(at.x)}" y="${number(at.y)}" ${attributes}>${escapeXml(content)}</text>`;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text({ x: width / 2, y: 22 }, plot.title, 'text-anchor="middle" font-size="15"'),
  ];
  for (const tick of y.ticks) {
    const at = y.toPixel(tick.value);
    parts.push(`<line x1="${left}" x2="${right}" y1="${number(at)}" y2="${number(at)}" stroke="#dddddd"/>`);
    parts.push(text({ x: left - 6, y: at + 4 }, tick.label, 'text-anchor="end"'));
  }
  for (const tick of x.ticks) {
    const at = x.toPixel(tick.value);
    parts.push(`<line x1="${number(at)}" x2="${number(at)}" y1="${top}" y2="${bottom}" stroke="#eeeeee"/>`);
    parts.push(text({ x: at, y: bottom + 16 }, tick.label, 'text-anchor="middle"'));
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#888888"/>`);
  parts.push(text({ x: (left + right) / 2, y: bottom + 34 }, 'when the request was due (s from the start of the load)', 'text-anchor="middle"'));
  parts.push(text({ x: 14, y: (top + bottom) / 2 }, 'latency (log scale)', `text-anchor="middle" transform="rotate(-90 14 ${number((top + bottom) / 2)})"`));

  for (const [index, marker] of (plot.markers ?? []).entries()) {
    const at = x.toPixel(marker.atS);
    parts.push(`<line x1="${number(at)}" x2="${number(at)}" y1="${top}" y2="${bottom}" stroke="${marker.colour}" stroke-dasharray="4 3"/>`);
    // Labels step down so that markers close together stay readable.
    parts.push(text({ x: at + 3, y: top + 12 + (index % 4) * 13 }, marker.label, `fill="${marker.colour}" font-size="10"`));
  }
  for (const series of plot.series) {
    parts.push(`<g fill="${series.colour}" fill-opacity="0.55">`);
    for (const point of series.points) parts.push(`<circle cx="${number(x.toPixel(point.atS))}" cy="${number(y.toPixel(point.latencyMs))}" r="1.6"/>`);
    parts.push('</g>');
  }
  // The legend, below the x axis: one swatch and name per series, with its count; a second row when one is full.
  let legendX = left;
  let legendY = bottom + 50;
  for (const series of plot.series) {
    const label = `${series.name} (${series.points.length.toLocaleString('en')})`;
    const labelWidth = 30 + label.length * 7;
    if (legendX > left && legendX + labelWidth > right) [legendX, legendY] = [left, legendY + 18];
    parts.push(`<circle cx="${legendX + 5}" cy="${legendY}" r="4" fill="${series.colour}"/>`);
    parts.push(text({ x: legendX + 13, y: legendY + 4 }, label));
    legendX += labelWidth;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders the plot to a PNG file. */
export function writeLatencyPlot(file: string, plot: LatencyPlot): void {
  const png = new Resvg(latencyPlotSvg(plot), { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  writeFileSync(file, png);
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
