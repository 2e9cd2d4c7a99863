import { describe, expect, test } from '@jest/globals';
import { ConsistencyTokens, TimelineClient } from './timeline-client';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const EVENT_ANSWER = { event: {}, revision: 1, version: 2, commandId: '7d0f2b5e-3c1a-4f6e-9b2d-8a4c6e1f0a35' };

/** A client whose requests go to `answer` instead of the network; it records what each request carried. */
function clientAnswering(answer: (request: Request) => Response) {
  const sent: { method: string; path: string; token: string | null }[] = [];
  const client = new TimelineClient({
    baseUrl: 'http://api.test',
    retries: 0,
    fetch: async (request: Request) => {
      sent.push({ method: request.method, path: new URL(request.url).pathname, token: request.headers.get('consistency-token') });
      return answer(request);
    },
  });
  return { client, sent };
}

describe('ConsistencyTokens', () => {
  test('keeps the greatest v1 token seen, whatever the order the answers came in', () => {
    const tokens = new ConsistencyTokens();
    expect(tokens.current).toBeNull();
    for (const token of ['v1.0000000001000000', 'v1.00000000ff000000', 'v1.0000000002000000', null]) tokens.observe(token);
    expect(tokens.current).toBe('v1.00000000ff000000');
  });

  test('a token of a form it does not know replaces the one kept', () => {
    const tokens = new ConsistencyTokens();
    tokens.observe('v1.00000000ff000000');
    tokens.observe('v2.opaque');
    expect(tokens.current).toBe('v2.opaque');
  });
});

describe('TimelineClient and consistency tokens', () => {
  test('reads carry the greatest token of its own writes; nothing before the first write', async () => {
    const tokens = ['v1.0000000000000200', 'v1.0000000000000100'];
    const { client, sent } = clientAnswering((request) => {
      if (request.method === 'POST') return json(201, EVENT_ANSWER, { 'consistency-token': tokens.shift()! });
      return json(200, { ...EVENT_ANSWER.event });
    });
    await client.api.GET('/v1/events/{eventId}', { params: { path: { eventId: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1003' } } });
    await client.recordEvent('japan-nato', { kind: 'summit.attended', title: 'A', language: 'en', validTime: '2022', factuality: 'confirmed' } as never);
    await client.recordEvent('japan-nato', { kind: 'summit.attended', title: 'B', language: 'en', validTime: '2022', factuality: 'confirmed' } as never);
    await client.api.GET('/v1/events/{eventId}', { params: { path: { eventId: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1003' } } });
    expect(sent.map(({ method, token }) => [method, token])).toEqual([
      ['GET', null],
      ['POST', null],
      ['POST', null],
      ['GET', 'v1.0000000000000200'],
    ]);
    expect(client.consistencyToken).toBe('v1.0000000000000200');
  });

  test('a write answered 202 and followed to its decision keeps the token of the decided answer', async () => {
    let polls = 0;
    const { client, sent } = clientAnswering((request) => {
      const path = new URL(request.url).pathname;
      if (request.method === 'POST') {
        if (polls === 0) return json(202, { commandId: EVENT_ANSWER.commandId, status: 'pending', location: `/v1/commands/${EVENT_ANSWER.commandId}` });
        return json(201, EVENT_ANSWER, { 'consistency-token': 'v1.0000000000000300' });
      }
      if (path.startsWith('/v1/commands/')) {
        polls += 1;
        return json(200, { commandId: EVENT_ANSWER.commandId, status: 'accepted' }, { 'consistency-token': 'v1.0000000000000300' });
      }
      return json(200, {});
    });
    await client.recordEvent('japan-nato', { kind: 'summit.attended', title: 'A', language: 'en', validTime: '2022', factuality: 'confirmed' } as never);
    await client.api.GET('/v1/timelines/{timelineId}', { params: { path: { timelineId: 'japan-nato' } } });
    expect(sent.at(-1)).toEqual({ method: 'GET', path: '/v1/timelines/japan-nato', token: 'v1.0000000000000300' });
  });
});
