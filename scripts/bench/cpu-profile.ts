/**
 * Preloaded into a service by a measuring tool (`NODE_OPTIONS=--require …/cpu-profile.js`; `--cpu-prof` is not
 * allowed in NODE_OPTIONS): profiles the process's CPU from its start and writes the profile (Chrome DevTools
 * `.cpuprofile`) to CPU_PROFILE_PATH when the process gets SIGUSR2.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const target = process.env.CPU_PROFILE_PATH;
if (target) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  // On SIGUSR2 (the tool sends it before stopping the process): the profile so far.
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}
