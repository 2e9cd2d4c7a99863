import { describe, expect, it } from '@jest/globals';
import { latencyPlotSvg, logAxis, seriesByStatus, statusColour, timeAxis } from '../scripts/bench/latency-plot';

describe('the latency plot of the bench', () => {
  describe('the log-scale latency axis', () => {
    it('ticks at every power of ten from below the fastest to above the slowest answer', () => {
      const axis = logAxis(3.2, 450, 500, 100);
      expect(axis.ticks.map((tick) => tick.label)).toEqual(['1 ms', '10 ms', '100 ms', '1 s']);
    });

    it('puts the lowest tick at the bottom, the highest at the top, and each decade the same height', () => {
      const axis = logAxis(1, 1_000, 400, 100);
      expect(axis.toPixel(1)).toBe(400);
      expect(axis.toPixel(1_000)).toBe(100);
      expect(axis.toPixel(10)).toBeCloseTo(300);
      expect(axis.toPixel(100)).toBeCloseTo(200);
    });

    it('draws a latency of 0 ms at the floor of the axis instead of at minus infinity', () => {
      const axis = logAxis(0, 10, 400, 100);
      expect(axis.ticks[0].label).toBe('0.1 ms');
      expect(axis.toPixel(0)).toBe(400);
    });
  });

  describe('the time axis', () => {
    it('ticks every second for a 10 s load and every 5 s for a 40 s one', () => {
      expect(timeAxis(9.7, 0, 100).ticks.map((tick) => tick.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(timeAxis(40, 0, 100).ticks.map((tick) => tick.value)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    });

    it('maps the start of the load to the left edge and the last tick to the right edge', () => {
      const axis = timeAxis(10, 64, 1184);
      expect(axis.toPixel(0)).toBe(64);
      expect(axis.toPixel(10)).toBe(1184);
    });
  });

  describe('the series', () => {
    it('groups answers by status, in order of status, each in its own colour', () => {
      const series = seriesByStatus([
        { atS: 0.1, latencyMs: 20, status: 503 },
        { atS: 0.2, latencyMs: 5, status: 201 },
        { atS: 0.3, latencyMs: 7, status: 201 },
        { atS: 0.4, latencyMs: 30_000, status: 0 },
      ]);
      expect(series.map(({ name, colour, points }) => ({ name, colour, count: points.length }))).toEqual([
        { name: 'no answer', colour: statusColour(0), count: 1 },
        { name: 'HTTP 201', colour: statusColour(201), count: 2 },
        { name: 'HTTP 503', colour: statusColour(503), count: 1 },
      ]);
      expect(new Set([statusColour(0), statusColour(201), statusColour(202), statusColour(503), statusColour(408)]).size).toBe(5);
    });
  });

  describe('the SVG of a tiny load', () => {
    const svg = latencyPlotSvg({
      title: 'half capacity <test>',
      width: 1200,
      height: 600,
      series: [
        { name: 'HTTP 201', colour: '#009e73', points: [{ atS: 0, latencyMs: 1 }] },
        { name: 'SSE', colour: '#0072b2', points: [{ atS: 10, latencyMs: 1_000 }] },
      ],
      markers: [{ atS: 5, label: 'checkpoint', colour: '#555555' }],
    });

    it('draws one dot per answer, where its due time and latency put it', () => {
      const dots = [...svg.matchAll(/<g fill="([^"]+)"[^>]*>\n<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map(([, colour, cx, cy]) => ({ colour, cx, cy }));
      // x: 64 px margin to 1184 px; y: 1 ms at the bottom (600 - 84), 1 s at the top (36).
      expect(dots).toEqual([
        { colour: '#009e73', cx: '64.0', cy: '516.0' },
        { colour: '#0072b2', cx: '1184.0', cy: '36.0' },
      ]);
    });

    it('draws a marker as a dashed vertical line with its label, at its time', () => {
      expect(svg).toContain('<line x1="624.0" x2="624.0" y1="36" y2="516" stroke="#555555" stroke-dasharray="4 3"/>');
      expect(svg).toMatch(/<text x="627.0" y="\d+(\.\d)?" fill="#555555" font-size="10">checkpoint<\/text>/);
    });

    it('starts a second legend row when the first is full', () => {
      const many = latencyPlotSvg({
        title: 'legend',
        series: Array.from({ length: 8 }, (_, index) => ({ name: `a series with a long name ${index}`, colour: '#000000', points: [] })),
      });
      const rows = new Set([...many.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="4"/g)].map(([, cy]) => cy));
      expect([...rows]).toEqual(['566', '584']);
    });

    it('names every series in the legend with its count, and escapes the title', () => {
      expect(svg).toContain('>HTTP 201 (1)</text>');
      expect(svg).toContain('>SSE (1)</text>');
      expect(svg).toContain('>half capacity &lt;test&gt;</text>');
    });
  });
});
