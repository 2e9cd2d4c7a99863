/** Server-Sent Events framing (WHATWG HTML, "server-sent events"). Data must not contain line breaks; JSON.stringify has none. */

export function sseMessage(id: number, data: unknown): string {
  return `id: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies and load balancers from closing an idle connection. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}
