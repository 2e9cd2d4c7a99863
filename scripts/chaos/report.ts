/** The chaos table, and the lines under it that say what each scenario saw. */
import { table } from '../bench/stats';
import type { ScenarioResult } from './scenarios';

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function recovery(result: ScenarioResult): string {
  const times = result.faults.map((fault) => (fault.recoveredAt === null ? null : fault.recoveredAt - fault.healedAt));
  const known = times.filter((time): time is number => time !== null).sort((a, b) => a - b);
  if (known.length === 0) return 'never';
  const median = known[Math.floor((known.length - 1) / 2)];
  const missing = times.length - known.length;
  return `${seconds(median)}/${seconds(known[known.length - 1])}${missing ? ` (${missing} never)` : ''}`;
}

export function chaosTable(results: ScenarioResult[]): string {
  const rows = results.map((result) => {
    const { audit } = result;
    const other =
      Object.entries(result.answers.other)
        .map(([status, n]) => `${status}x${n}`)
        .join(' ') || '0';
    return [
      result.name,
      result.faults.length,
      audit.writes,
      audit.acknowledged,
      audit.found,
      audit.lostAcknowledged + audit.lostPending,
      audit.duplicated,
      audit.resent,
      result.answers.accepted202,
      result.answers.unavailable503,
      other,
      seconds(result.maxAnswerMs),
      recovery(result),
      audit.replayEqual === null ? 'n/a' : audit.replayEqual ? 'yes' : 'NO',
      result.violations.length === 0 ? 'pass' : 'FAIL',
    ];
  });
  return table(
    [
      'scenario',
      'faults',
      'writes',
      'acked',
      'found',
      'lost',
      'dup',
      'resent',
      '202',
      '503',
      'other',
      'max answer s',
      'recover s med/max',
      'replay =',
      'verdict',
    ],
    rows,
  );
}

export function chaosDetails(results: ScenarioResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const { audit } = result;
    lines.push(`${result.name}: ${result.title} (${result.seconds} s)`);
    lines.push(
      `  202 answers decided later: ${audit.pendingDecided}; not acknowledged but applied: ${audit.unacknowledgedApplied}; ` +
        `timeline.events: ${audit.eventRecords} records read (end offsets sum ${audit.topicEndOffsets}), ${audit.distinctEventIds} distinct ce_id, ${audit.outboxRows} accepted changes, ${audit.unpublished} of them missing` +
        (result.notSent ? `; ${result.notSent} writes not sent (in-flight cap)` : ''),
    );
    for (const note of result.notes) lines.push(`  ${note}`);
    for (const violation of result.violations) lines.push(`  VIOLATION: ${violation}`);
  }
  return lines.join('\n');
}

export const TABLE_LEGEND = [
  'acked = answered 201 (200 for a revision); found = acked and in the read models after recovery;',
  'lost = acked but missing, plus answered 202 and never decided; dup = a command applied twice or a change under two ce_ids;',
  'resent = records on timeline.events repeating a ce_id (at-least-once, allowed); 202/503 = answers (attempts, retries included);',
  'other = any other answer or no answer; recover = from the end of the fault (the kill, for kills) to writes answered 201/200 again;',
  'replay = = the read models and decisions have the checksums of a clean replay of timeline.commands into a fresh schema.',
].join('\n');
