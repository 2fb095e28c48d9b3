/** The route command language: every form, line-by-line error isolation, fabio's weight normalisation. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyCommands, parseCommands, type Ir, type Target } from '../../src/fabio/routecmd.js'
import { toSnapshot } from '../../src/fabio/snapshot.js'
import { integerWeights, shares } from '../../src/fabio/weights.js'
import { defaultConfig } from '../../src/config/defaults.js'

/** Apply `text` to an empty table; the table as `src: svc@dst[w=..][tags]` lines plus the problems. */
function run(text: string): { table: string[]; problems: string[] } {
  const parsed = parseCommands(text)
  const ir: Ir = new Map()
  const problems = [...parsed.problems, ...applyCommands(ir, parsed.commands, text)].map(
    (p) => `${p.line}: ${p.reason}`,
  )
  const table: string[] = []
  for (const [key, r] of ir) {
    for (const t of r.targets) {
      table.push(
        `${key} ${t.service} ${t.dst}${t.fixedWeight > 0 ? ` w=${t.fixedWeight}` : ''}${t.tags.length > 0 ? ` [${t.tags.join(',')}]` : ''}`,
      )
    }
  }
  return { table, problems }
}

const base = `
route add a /a http://10.0.0.1:80/ tags "blue,v1"
route add a /a http://10.0.0.2:80/ tags "green,v2"
route add b /b http://10.0.0.3:8080/ tags "blue"
route add b example.com/ https://10.0.0.4/ tags "v2"
`

const cases: { desc: string; text: string; table: string[]; problems?: string[] }[] = [
  {
    desc: 'route add (all clauses), comments and blank lines',
    text: `# comment\n// also\n\n  route add svc  /p  http://1.2.3.4:5/ weight 0.5 tags "x,y" opts "strip=/p"  \nroute add t :3306 tcp://1.2.3.4:3306`,
    table: ['/p svc http://1.2.3.4:5/ w=0.5 [x,y]', ':3306 t tcp://1.2.3.4:3306'],
  },
  {
    desc: 'route add deduplicates service + dst',
    text: 'route add a /a http://1.1.1.1:80/\nroute add a /a http://1.1.1.1/',
    table: ['/a a http://1.1.1.1:80/'],
  },
  {
    desc: 'route del <svc>',
    text: base + 'route del a',
    table: ['/b b http://10.0.0.3:8080/ [blue]', 'example.com/ b https://10.0.0.4:443/ [v2]'],
  },
  {
    desc: 'route del <svc> <src>',
    text: base + 'route del b example.com/',
    table: [
      '/a a http://10.0.0.1:80/ [blue,v1]',
      '/a a http://10.0.0.2:80/ [green,v2]',
      '/b b http://10.0.0.3:8080/ [blue]',
    ],
  },
  {
    desc: 'route del <svc> <src> <dst>',
    text: base + 'route del a /a http://10.0.0.1:80/',
    table: [
      '/a a http://10.0.0.2:80/ [green,v2]',
      '/b b http://10.0.0.3:8080/ [blue]',
      'example.com/ b https://10.0.0.4:443/ [v2]',
    ],
  },
  {
    desc: 'route del <svc> tags (all listed tags must match)',
    text: base + 'route del a tags "green,v2"',
    table: [
      '/a a http://10.0.0.1:80/ [blue,v1]',
      '/b b http://10.0.0.3:8080/ [blue]',
      'example.com/ b https://10.0.0.4:443/ [v2]',
    ],
  },
  {
    desc: 'route del tags (any service)',
    text: base + 'route del tags "blue"',
    table: ['/a a http://10.0.0.2:80/ [green,v2]', 'example.com/ b https://10.0.0.4:443/ [v2]'],
  },
  {
    desc: 'route weight <svc> <src> weight <w> tags',
    text: base + 'route weight a /a weight 0.05 tags "v2"',
    table: [
      '/a a http://10.0.0.1:80/ [blue,v1]',
      '/a a http://10.0.0.2:80/ w=0.05 [green,v2]',
      '/b b http://10.0.0.3:8080/ [blue]',
      'example.com/ b https://10.0.0.4:443/ [v2]',
    ],
  },
  {
    desc: 'route weight <src> weight <w> tags, split over the matching targets',
    text: 'route add a /a http://1.1.1.1/ tags "c"\nroute add a /a http://1.1.1.2/ tags "c"\nroute add a /a http://1.1.1.3/\nroute weight /a weight 0.2 tags "c"',
    table: [
      '/a a http://1.1.1.1:80/ w=0.1 [c]',
      '/a a http://1.1.1.2:80/ w=0.1 [c]',
      '/a a http://1.1.1.3:80/',
    ],
  },
  {
    desc: 'line-by-line isolation: bad lines are reported, the others apply',
    text: 'route add a /a http://1.1.1.1/\nroute frob\nroute add b /b not-a-url\nroute weight a /nope weight 0.5\nroute add c /c http://1.1.1.3/ tags x\nroute add d /d http://1.1.1.4/',
    table: ['/a a http://1.1.1.1:80/', '/d d http://1.1.1.4:80/'],
    problems: [
      '2: unknown command "route frob" (expected add, del or weight)',
      '3: "not-a-url" is not a URL',
      '5: tags must be quoted: tags "..."',
    ],
  },
]

for (const c of cases) {
  test(c.desc, () => {
    const r = run(c.text)
    assert.deepEqual(r.table, c.table)
    assert.deepEqual(r.problems, c.problems ?? [])
  })
}

function t(fixed: number, dyn = 1): Target {
  return {
    service: 's',
    id: `${fixed}-${dyn}-${Math.random()}`,
    dst: '',
    host: 'h',
    port: 1,
    fixedWeight: fixed,
    dynWeight: dyn,
    tags: [],
    opts: {
      proto: 'http',
      strip: '',
      prepend: '',
      tlsSkipVerify: false,
      hostHeader: '',
      redirect: null,
      allow: [],
      deny: [],
    },
  }
}
const round = (xs: number[]): number[] => xs.map((x) => Math.round(x * 1e6) / 1e6)

const weightCases: { desc: string; targets: Target[]; shares: number[]; ints?: number[] }[] = [
  {
    desc: 'all dynamic: equal split',
    targets: [t(0), t(0), t(0), t(0)],
    shares: [0.25, 0.25, 0.25, 0.25],
    ints: [1, 1, 1, 1],
  },
  {
    desc: 'canary 5 %: the rest share 95 %',
    targets: [t(0.05), t(0), t(0)],
    shares: [0.05, 0.475, 0.475],
    ints: [27, 256, 256],
  },
  {
    desc: 'fixed sum > 1 is normalised',
    targets: [t(0.6), t(0.9), t(0)],
    shares: [0.4, 0.6, 0],
    ints: [171, 256, 0],
  },
  {
    desc: 'all fixed, sum < 1 is normalised',
    targets: [t(0.1), t(0.3)],
    shares: [0.25, 0.75],
    ints: [85, 256],
  },
  {
    desc: 'fixed sum exactly 1 leaves nothing for dynamic',
    targets: [t(1), t(0)],
    shares: [1, 0],
    ints: [256, 0],
  },
  {
    desc: 'dynamic share follows Consul weights',
    targets: [t(0, 1), t(0, 3)],
    shares: [0.25, 0.75],
    ints: [1, 3],
  },
  {
    desc: 'Consul weights above 256 are scaled down',
    targets: [t(0, 1000), t(0, 500)],
    shares: [2 / 3, 1 / 3],
    ints: [256, 128],
  },
]

for (const c of weightCases) {
  test(`weights: ${c.desc}`, () => {
    assert.deepEqual(round(shares(c.targets)), round(c.shares))
    if (c.ints !== undefined) assert.deepEqual(integerWeights(c.targets), c.ints)
  })
}

test('toSnapshot: one service per distinct server list, canary route gets its own', () => {
  const text = `route add web /a http://10.0.0.1/ tags "v1"
route add web /a http://10.0.0.2/ tags "v2"
route add web /b http://10.0.0.1/ tags "v1"
route add web /b http://10.0.0.2/ tags "v2"
route add web /c http://10.0.0.1/ tags "v1"
route add web /c http://10.0.0.2/ tags "v2"
route weight web /c weight 0.1 tags "v2"
route add red /old http://x.example/ opts "redirect=301"
route add db :5432 tcp://10.0.0.9:5432`
  const ir: Ir = new Map()
  applyCommands(ir, parseCommands(text).commands, text)
  const s = toSnapshot(ir, { defaults: defaultConfig.defaults, source: 'test' })
  assert.deepEqual(
    s.routes.map((r) => `${r.path} → ${r.service || `redirect ${r.redirect?.code} ${r.redirect?.url}`}`),
    ['/a → web', '/b → web', '/c → web~/c', '/old → redirect 301 http://x.example/'],
  )
  assert.deepEqual(
    s.tcpRoutes.map((r) => `${r.port} → ${r.service}`),
    ['5432 → db'],
  )
  assert.deepEqual(
    s.services.map((v) => `${v.name}: ${v.servers.map((x) => `${x.name}*${x.weight}`).join(' ')}`),
    ['db: 10.0.0.9:5432*1', 'web: 10.0.0.1:80*1 10.0.0.2:80*1', 'web~/c: 10.0.0.1:80*9000 10.0.0.2:80*1000'],
  )
})
