/**
 * The HTTP/1.1 engine's per-request parsing (src/net/h1/parse.ts): ns per request head (wrk's one-header
 * request and a 12-header browser request), per response head (nginx's), and per chunked body.
 *
 * One timed call runs BATCH operations; `ns/op` is the batch mean divided by BATCH.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/h1.js
 */
import { pathToFileURL } from 'node:url'
import { Bench, type Task } from 'tinybench'
import {
  headEnd,
  parseRequestHead,
  parseResponseHead,
  RequestHead,
  ResponseHead,
} from '../src/net/h1/parse.js'
import { ChunkedDecoder, type ChunkSink } from '../src/net/h1/chunked.js'
import { printRuntime } from './runtime.js'

const BATCH = 1_000

const wrk = Buffer.from('GET /small HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n', 'latin1')

const browser = Buffer.from(
  'GET /app/dashboard?tab=1 HTTP/1.1\r\n' +
    'Host: app.example.com\r\n' +
    'Connection: keep-alive\r\n' +
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"\r\n' +
    'sec-ch-ua-mobile: ?0\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0\r\n' +
    'sec-ch-ua-platform: "Linux"\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n' +
    'Sec-Fetch-Site: same-origin\r\n' +
    'Sec-Fetch-Mode: navigate\r\n' +
    'Referer: https://app.example.com/\r\n' +
    'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
    'Accept-Language: en-GB,en;q=0.9\r\n\r\n',
  'latin1',
)

const nginx = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 05:53:42 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n',
  'latin1',
)

const chunked = Buffer.from('400\r\n' + 'x'.repeat(1024) + '\r\n'.repeat(1) + '0\r\n\r\n', 'latin1')

class Count implements ChunkSink {
  n = 0
  chunkData(_buf: Buffer, start: number, end: number): void {
    this.n += end - start
  }
  chunkedEnd(): void {
    this.n++
  }
}

let sink = 0

function row(task: Task): Record<string, string | number> {
  const r = task.result
  if (r.state !== 'completed') return { task: task.name, state: r.state }
  return {
    task: task.name,
    'ns/op': ((r.latency.mean * 1e6) / BATCH).toFixed(1),
    '± %': r.latency.rme.toFixed(2),
    samples: r.latency.samplesCount,
  }
}

export async function run(): Promise<void> {
  const bench = new Bench({ name: 'h1', time: 500, warmupTime: 200 })
  const req = new RequestHead()
  const res = new ResponseHead()
  const count = new Count()
  const decoder = new ChunkedDecoder(count)
  bench.add('request head, wrk (1 header)', () => {
    for (let i = 0; i < BATCH; i++) sink += parseRequestHead(wrk, 0, headEnd(wrk, 0), req)
  })
  bench.add('request head, browser (12 headers)', () => {
    for (let i = 0; i < BATCH; i++) sink += parseRequestHead(browser, 0, headEnd(browser, 0), req)
  })
  bench.add('response head, nginx (5 headers)', () => {
    for (let i = 0; i < BATCH; i++) sink += parseResponseHead(nginx, 0, headEnd(nginx, 0), res) ? 1 : 0
  })
  bench.add('chunked body, 1 KiB chunk', () => {
    for (let i = 0; i < BATCH; i++) {
      decoder.reset()
      sink += decoder.feed(chunked, 0, chunked.length)
    }
  })
  await bench.run()
  console.table(bench.table(row))
  if (sink < 0) console.log(sink, count.n)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRuntime()
  await run()
}
