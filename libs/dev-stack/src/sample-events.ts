import { randomUUID } from 'node:crypto';

/** The n-th of a stream of small, distinct events for tests that write many. */
export const reportedStatement = (n: number) => ({
  eventId: randomUUID(),
  kind: 'statement.reported',
  title: `Dichiarazione ${n}`,
  language: 'it',
  validTime: `2023-07-${String((n % 28) + 1).padStart(2, '0')}`,
  factuality: 'reported',
});
