import { describe, expect, it } from '@jest/globals';
import { commitGaps, serverLogEvents, stallsWithEvents } from '../scripts/bench/tail-evidence';

describe("the bench's tail evidence", () => {
  describe('events from the PostgreSQL server log', () => {
    const log = [
      '2026-12-07 06:04:57.082 UTC [2230] LOG:  checkpoint starting: immediate force wait',
      '2026-12-07 06:04:57.576 UTC [2230] LOG:  checkpoint complete: wrote 4518 buffers (27.6%); 0 WAL file(s) added, 0 removed, 15 recycled; write=0.094 s, sync=0.327 s, total=0.494 s',
      '2026-12-07 06:04:23.700 UTC [23401] postgres@timeline_bench_ab LOG:  duration: 63.720 ms  execute apply_batch: select batch_outcome from apply_batch($1)',
      '2026-12-07 06:04:23.800 UTC [999] postgres@other_db LOG:  duration: 80.000 ms  statement: select 1',
      '2026-12-07 06:04:24.000 UTC [555] LOG:  automatic vacuum of table "timeline_bench_ab.bench_http.outbox": index scans: 1',
      '\tpages: 0 removed, 40 remain, 40 scanned (100.00% of total)',
      '2026-12-07 06:04:24.100 UTC [556] LOG:  automatic analyze of table "other_db.public.t" avg read rate: 0.000 MB/s',
    ].join('\n');
    const events = serverLogEvents(log, 'timeline_bench_ab', new Set([23401]));

    it('keeps checkpoints (with their total time), slow statements of our backends and autovacuum of our database only', () => {
      expect(events.map(({ what, ms }) => ({ what: what.slice(0, 24), ms }))).toEqual([
        { what: 'checkpoint starting: imm', ms: undefined },
        { what: 'checkpoint complete: wro', ms: 494 },
        { what: 'slow statement (pid 2340', ms: 63.72 },
        { what: 'automatic vacuum of tabl', ms: undefined },
      ]);
    });

    it('reads the time as UTC', () => {
      expect(events[0].at).toBe(Date.parse('2026-12-07T06:04:57.082Z'));
    });
  });

  describe("pauses in the projector's commits", () => {
    const batch = (at: number, applyBatchMs: number) => ({ at, partition: 0, records: 1, chunkMs: applyBatchMs, applyBatchMs });

    it('counts the pauses over the threshold, in commit order, and those the next apply_batch took more than half of', () => {
      // Commits at 0, 100, 400 (its call took 250 of the 300 ms pause), 900 (20 of 500) and 950 ms, given out of order.
      const gaps = commitGaps([batch(900, 20), batch(0, 5), batch(400, 250), batch(100, 5), batch(950, 5)], 150);
      expect(gaps).toEqual({ count: 2, longestMs: 500, mostlyInApplyBatch: 1 });
    });
  });

  describe('stalls', () => {
    const at = (seconds: number) => 1_000_000 + seconds * 1_000;
    const answer = (dueS: number, latencyMs: number) => ({ dueAt: at(dueS), answeredAt: at(dueS) + latencyMs });

    it('groups slow answers due close together into one stall, and leaves fast answers out', () => {
      const stalls = stallsWithEvents([answer(1, 400), answer(1.1, 300), answer(1.2, 5), answer(1.3, 200), answer(5, 350)], [], 150);
      expect(stalls.map(({ from, to, answers, worstMs }) => ({ from, to, answers, worstMs }))).toEqual([
        { from: at(1), to: at(1.3), answers: 3, worstMs: 400 },
        { from: at(5), to: at(5), answers: 1, worstMs: 350 },
      ]);
    });

    it('holds against a stall the events from a second before its first slow request was due until its last answer', () => {
      const events = [
        { at: at(-0.5), source: 'postgres', what: 'too early' },
        { at: at(0.2), source: 'postgres log', what: 'checkpoint starting' },
        { at: at(1.3), source: 'projector gc', what: 'major GC', ms: 40 },
        { at: at(2), source: 'postgres', what: 'too late' },
      ];
      const [stall] = stallsWithEvents([answer(1, 400), answer(1.1, 300)], events, 150);
      expect(stall.events.map((event) => event.what)).toEqual(['checkpoint starting', 'major GC']);
    });
  });
});
