import { testToken } from './tokens';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client over fetch for the tests; it sends a token with every scope unless given another, or null for none. */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = testToken(),
  ) {}

  /** The same client with another token, or none. */
  withToken(token: string | null): HttpClient {
    return new HttpClient(this.baseUrl, token);
  }

  get<T = any>(path: string, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request('GET', path, undefined, headers);
  }

  put<T = any>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request('PUT', path, body, headers);
  }

  post<T = any>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request('POST', path, body, headers);
  }

  async request<T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<HttpResult<T>> {
    const auth: Record<string, string> = this.token === null ? {} : { authorization: `Bearer ${this.token}` };
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? { ...auth, ...headers } : { 'content-type': 'application/json', ...auth, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
  }
}
