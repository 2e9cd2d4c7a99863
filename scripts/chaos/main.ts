/**
 * `npm run chaos`: each scenario on its own fresh service, on a Kafka broker (or cluster) and a
 * PostgreSQL cluster of its own, then a table. CHAOS_SCALE=small for a short run; every setting in
 * ./settings.ts. Exit code 1 when a scenario broke an invariant (the table says which).
 */
import 'reflect-metadata';
import { Lab } from './lab';
import { chaosDetails, chaosTable, TABLE_LEGEND } from './report';
import { runScenario, type ScenarioResult } from './scenarios';
import { chaosSettings, SCENARIO_NAMES } from './settings';

const settings = chaosSettings(process.env, { scale: 'full', entry: 'dist' });
const startedAt = Date.now();
const lab = new Lab(settings, (message) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${message}`));
/** The whole run is bounded; past this, clean up and fail. */
const overallMs = Number(process.env.CHAOS_OVERALL_TIMEOUT_MS ?? (settings.scale === 'full' ? 50 : 15) * 60_000);

async function main(): Promise<number> {
  const names = settings.only.length > 0 ? SCENARIO_NAMES.filter((name) => settings.only.includes(name)) : [...SCENARIO_NAMES];
  lab.log(
    `chaos: scale ${settings.scale}, seed ${settings.seed} (CHAOS_SEED), ${settings.ratePerSecond} writes/s over ${settings.timelines} timelines; scenarios ${names.join(', ')}`,
  );
  await lab.start();
  const results: ScenarioResult[] = [];
  for (const name of names) {
    try {
      results.push(await runScenario(lab, name, settings));
    } catch (error) {
      lab.keepLogs = true;
      lab.log(`chaos: ${name} could not run: ${(error as Error).stack ?? String(error)}`);
    }
  }
  console.log(`\nFaults and recovery: ${new Date().toISOString()}, scale ${settings.scale}, seed ${settings.seed}, ${settings.ratePerSecond} writes/s offered`);
  console.log(chaosTable(results));
  console.log(TABLE_LEGEND);
  console.log('');
  console.log(chaosDetails(results));
  return results.length === names.length && results.every((result) => result.violations.length === 0) ? 0 : 1;
}

lab.runToExit('chaos', overallMs, main);
