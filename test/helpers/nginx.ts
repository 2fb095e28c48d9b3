/**
 * A real nginx (Debian's package) in front of lb for tests: its own temp prefix, config and pid file, the
 * WebSocket proxy configuration from nginx's documentation, and keep-alive connections to lb.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deadPort } from './upstream.js'

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? ''

/** Skip reason when nginx is not installed (and LB_REQUIRE_NGINX is not 1); false otherwise. */
export const nginxMissing: string | false =
  NGINX === '' && process.env.LB_REQUIRE_NGINX !== '1'
    ? 'nginx not installed (apt-get install -y nginx)'
    : false

export interface TestNginx {
  readonly port: number
  close(): Promise<void>
}

/** nginx on 127.0.0.1 proxying everything to lb on `lbPort` with `keepalive` idle connections to it. */
export async function startNginx(lbPort: number, keepalive = 1): Promise<TestNginx> {
  if (NGINX === '') throw new Error('nginx is not installed')
  const dir = mkdtempSync(join(tmpdir(), 'lb-nginx-'))
  // nginx's worker runs as an unprivileged user when started as root.
  chmodSync(dir, 0o755)
  mkdirSync(join(dir, 'tmp'), { mode: 0o755 })
  const port = await deadPort()
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }
  upstream lb {
    server 127.0.0.1:${lbPort};
    keepalive ${keepalive};
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://lb;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`,
  )
  const proc: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let output = ''
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()))
  const deadline = performance.now() + 10_000
  while (!(await accepts(port))) {
    if (proc.exitCode !== null || performance.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`nginx did not start: ${output}`)
    }
    await new Promise((r) => setImmediate(r))
  }
  return {
    port,
    close: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
