/**
 * The Dockerfile (hadolint is not packaged in Debian, and CI has no Docker daemon, so its rules are checked
 * here): every stage on the official Node.js 24 LTS image; the final stage runs as a numeric non-root user and
 * never switches back to root; the node binary gets CAP_NET_BIND_SERVICE as a file capability; the entrypoint
 * is the package's `lb` bin, with glibc's mmap threshold fixed; every COPY from the build context exists and is not excluded by .dockerignore;
 * and the Kubernetes DaemonSet runs the image the way the Dockerfile's header says it must.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { repoRoot } from '../helpers/process.js'
import { MALLOC_TUNABLE } from '../../src/process/malloc-tunable.js'
import { YOUNG_GENERATION_FLAG } from '../../src/process/young-generation.js'

interface Instruction {
  readonly op: string
  readonly args: string
}

/** Instructions in order: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' '
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    const m = /^(\w+)\s+(.*)$/.exec(full)
    assert.ok(m !== null, `not an instruction: ${full}`)
    out.push({ op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() })
  }
  return out
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))
const stages: Instruction[][] = []
for (const i of dockerfile) {
  if (i.op === 'FROM') stages.push([])
  stages.at(-1)?.push(i)
}
const final = stages.at(-1) ?? []

test('Dockerfile: every stage is on the Node.js 24 LTS image', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage')
  for (const s of stages) assert.match(s[0]?.args ?? '', /^node:24-[a-z0-9-]+(\s+AS\s+\w+)?$/i)
})

test('Dockerfile: the final stage runs as a numeric non-root user, with no root afterwards', () => {
  const users = final.filter((i) => i.op === 'USER').map((i) => i.args)
  assert.ok(users.length >= 1, 'USER is set')
  const last = users.at(-1) as string
  const [uid, gid] = last.split(':')
  assert.match(uid ?? '', /^\d+$/, 'numeric, so runAsNonRoot can verify it')
  assert.notEqual(Number(uid), 0)
  assert.notEqual(Number(gid ?? 1), 0)
  const at = final.findIndex((i) => i.op === 'USER' && i.args === last)
  assert.ok(!final.slice(at).some((i) => i.op === 'RUN'), 'nothing runs after switching user')
  for (const i of dockerfile)
    assert.doesNotMatch(i.args, /\bsudo\b|--privileged|chmod\s+[0-7]*[4-7][0-7]{3}\b/)
  const uidInImage = final.find((i) => i.op === 'RUN' && i.args.includes('useradd'))?.args ?? ''
  assert.match(uidInImage, new RegExp(`--uid ${uid}\\b`), 'the user exists in the image')
})

test('Dockerfile: node may bind ports below 1024 through CAP_NET_BIND_SERVICE only', () => {
  const run = final
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' && ')
  assert.match(run, /setcap cap_net_bind_service=\+ep \/usr\/local\/bin\/node/)
  assert.doesNotMatch(run, /setcap (?!cap_net_bind_service=\+ep)/)
})

test("Dockerfile: the entrypoint is the package's lb bin, on the config path the DaemonSet mounts", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: { lb: string } }
  const entry = JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[]
  assert.deepEqual(entry, ['node', YOUNG_GENERATION_FLAG, `/opt/lb/${pkg.bin.lb}`])
  // As the systemd unit and the bin start it: glibc's fixed mmap threshold (src/process/malloc-tunable.ts).
  const env = final.filter((i) => i.op === 'ENV').map((i) => i.args)
  assert.ok(env.includes(`GLIBC_TUNABLES=${MALLOC_TUNABLE}`), env.join('\n'))
  const copied = final.filter((i) => i.op === 'COPY').map((i) => i.args)
  assert.ok(copied.includes('--from=build /src/dist/src ./dist/src'), copied.join('\n'))
  assert.deepEqual(JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? '[]'), [
    '--config',
    '/etc/lb/lb.yaml',
  ])
})

test('Dockerfile: every COPY from the build context exists and is not in .dockerignore', () => {
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  for (const i of dockerfile) {
    if (i.op !== 'COPY' || i.args.startsWith('--from=')) continue
    const parts = i.args.split(/\s+/)
    for (const src of parts.slice(0, -1)) {
      assert.ok(existsSync(join(repoRoot, src)), `COPY ${src}: missing`)
      assert.ok(!ignored.includes(src) && !ignored.includes(src.split('/')[0] ?? ''), `COPY ${src}: ignored`)
    }
  }
  for (const needed of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(needed), needed)
})

test('the Kubernetes DaemonSet runs the image as the Dockerfile says it must', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'config/kubernetes/lb-daemonset.yaml'), 'utf8'))
  const ds = docs.map((d) => d.toJS() as { kind?: string }).find((d) => d.kind === 'DaemonSet') as {
    spec: { template: { spec: { containers: Record<string, unknown>[] } } }
  }
  const c = ds.spec.template.spec.containers[0] as {
    image: string
    args: string[]
    securityContext: {
      runAsUser: number
      runAsNonRoot: boolean
      allowPrivilegeEscalation: boolean
      capabilities: { drop: string[]; add: string[] }
    }
  }
  const uid = (final.filter((i) => i.op === 'USER').at(-1)?.args ?? '').split(':')[0]
  assert.equal(c.securityContext.runAsUser, Number(uid))
  assert.equal(c.securityContext.runAsNonRoot, true)
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })
  // no_new_privs would make the kernel ignore node's file capability.
  assert.equal(c.securityContext.allowPrivilegeEscalation, true)
  assert.deepEqual(c.args, ['--config', '/etc/lb/lb.yaml'])
  const ops = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8')
  assert.ok(ops.includes(`docker build -t ${c.image} .`), `docs/operations.md builds ${c.image}`)
})
