import { describe, expect, test } from '@jest/globals';
import { Problem } from '@timeline/problems';
import { parseStreamRequest } from './stream-request';

describe('parseStreamRequest', () => {
  test('no position means from now; ?after= and Last-Event-ID name one, the header winning', () => {
    expect(parseStreamRequest({}, {})).toEqual({ after: undefined, afterField: 'query.after', filter: {} });
    expect(parseStreamRequest({ after: '0' }, {}).after).toBe(0);
    expect(parseStreamRequest({ after: '5' }, { 'last-event-id': '9' })).toMatchObject({ after: 9, afterField: 'header.last-event-id' });
  });

  test('filters by timeline and by CloudEvents type', () => {
    const { filter } = parseStreamRequest({ timelineId: 'japan-nato', type: 'timeline.event.revised.v1, timeline.event.retracted.v1' }, {});
    expect(filter).toEqual({ timelineId: 'japan-nato', changeTypes: ['EventRevised', 'EventRetracted'] });
  });

  test('a consistency token in the header or, for EventSource, in ?consistencyToken=; the header wins; one we did not give out is a 400', () => {
    expect(parseStreamRequest({ consistencyToken: 'v1.00000000016b3748' }, {}).atLeast).toBe(0x16b3748n);
    expect(parseStreamRequest({ consistencyToken: 'v1.00000000016b3748' }, { 'consistency-token': 'v1.0000000001000000' }).atLeast).toBe(0x1000000n);
    expect(() => parseStreamRequest({ consistencyToken: 'garbage' }, {})).toThrow(expect.objectContaining({ code: 'invalid-consistency-token' }));
    expect(() => parseStreamRequest({}, { 'consistency-token': 'v1.x' })).toThrow(expect.objectContaining({ code: 'invalid-consistency-token' }));
  });

  test.each([[{ after: '-1' }], [{ after: '1e3' }], [{ type: 'EventRecorded' }], [{ timelineId: 'A' }], [{ from: '1' }]])('%j is a 400', (query) => {
    expect(() => parseStreamRequest(query, {})).toThrow(Problem);
  });
});
