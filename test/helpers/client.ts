/**
 * A small HTTP client for tests (undici request; lets tests set Host).
 */
import { request, Agent } from 'undici'

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** A fresh agent per caller keeps tests from sharing keep-alive connections. */
export function newAgent(): Agent {
  return new Agent({ keepAliveTimeout: 1_000, connections: 64 })
}

const shared = newAgent()

export async function get(
  base: string,
  path: string,
  options: {
    host?: string
    headers?: Record<string, string>
    method?: string
    body?: string
    agent?: Agent
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.host !== undefined) headers.host = options.host
  const res = await request(base + path, {
    method: (options.method ?? 'GET') as 'GET',
    headers,
    body: options.body ?? null,
    dispatcher: options.agent ?? shared,
  })
  const body = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body }
}
