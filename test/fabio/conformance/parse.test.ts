/**
 * fabio `route/parse_test.go`: the route command grammar (TestParse, 31 rows, through provider/routecmd.ts
 * `parseCommands`) and the `register=` aliases (TestParseAliases, 9 rows, `registerAliases`). fabio's RouteDef is
 * rebuilt from lb's parsed command; a dst is compared in lb's canonical form (`http://1.2.3.4/` is
 * `http://1.2.3.4:80/`), which is the same URL.
 */
import { fabioCases } from './cases.js'
import { parseCommands, parseDst, registerAliases, type Command } from '../../../src/fabio/routecmd.js'

interface RouteDef {
  readonly Cmd: string
  readonly Service?: string
  readonly Src?: string
  readonly Dst?: string
  readonly Weight?: number
  readonly Tags?: string[]
  readonly Opts?: Record<string, string>
}

type Out = { fail: boolean; defs: RouteDef[] }

function canonDst(d: string): string {
  const p = parseDst(d)
  return typeof p === 'string' ? d : p.url
}

function def(c: Command): RouteDef {
  if (c.op === 'add') {
    const o = c.target.opts
    const opts: Record<string, string> = {}
    if (o.strip !== '') opts.strip = o.strip
    if (o.prepend !== '') opts.prepend = o.prepend
    if (o.hostHeader !== '') opts.host = o.hostHeader
    return {
      Cmd: 'route add',
      Service: c.service,
      Src: c.src.kind === 'tcp' ? `:${c.src.port}` : c.src.host + c.src.path,
      Dst: c.target.dst,
      ...(c.target.fixedWeight > 0 ? { Weight: c.target.fixedWeight } : {}),
      ...(c.target.tags.length > 0 ? { Tags: [...c.target.tags] } : {}),
      ...(Object.keys(opts).length > 0 ? { Opts: opts } : {}),
    }
  }
  if (c.op === 'del')
    return {
      Cmd: 'route del',
      ...(c.service === null ? {} : { Service: c.service }),
      ...(c.src === null ? {} : { Src: c.src }),
      ...(c.dst === null ? {} : { Dst: c.dst }),
      ...(c.tags === null ? {} : { Tags: [...c.tags] }),
    }
  return {
    Cmd: 'route weight',
    ...(c.service === null ? {} : { Service: c.service }),
    Src: c.src,
    Weight: c.weight,
    ...(c.tags.length > 0 ? { Tags: [...c.tags] } : {}),
  }
}

function parse(text: string): Out {
  const r = parseCommands(text)
  if (r.problems.length > 0) return { fail: true, defs: [] }
  return { fail: false, defs: r.commands.map((c) => def(c.command)) }
}

const add = 'route add'
const FOO = { foo: 'bar', baz: 'bang', blimp: '' }
const UNKNOWN_OPTS =
  'lb ignores options it does not know, with a warning (fabio keeps them on the target, where nothing reads them)'
const NO_GRPC =
  'lb does not proxy gRPC (it needs HTTP/2, a separate issue): a grpc:// dst is an error for its line'

const rows: {
  desc: string
  in: string
  out?: RouteDef[]
  fail?: boolean
  differs?: { reason: string; lb: Out }
}[] = [
  { desc: 'FailEmpty', in: '', out: [] },
  { desc: 'FailNoRoute', in: 'bang', fail: true },
  { desc: 'FailRouteNoCmd', in: 'route x', fail: true },
  { desc: 'FailRouteAddNoService', in: 'route add', fail: true },
  { desc: 'FailRouteAddNoSrc', in: 'route add svc', fail: true },
  {
    desc: 'RouteAddService',
    in: 'route add svc /prefix http://1.2.3.4/',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/' }],
  },
  {
    desc: 'RouteAddTCPService',
    in: 'route add svc :1234 tcp://1.2.3.4:5678',
    out: [{ Cmd: add, Service: 'svc', Src: ':1234', Dst: 'tcp://1.2.3.4:5678' }],
  },
  {
    desc: 'RouteAddGRPCService',
    in: 'route add svc :1234 grpc://1.2.3.4:5678',
    out: [{ Cmd: add, Service: 'svc', Src: ':1234', Dst: 'grpc://1.2.3.4:5678' }],
    differs: { reason: NO_GRPC, lb: { fail: true, defs: [] } },
  },
  {
    desc: 'RouteAddServiceWeight',
    in: 'route add svc /prefix http://1.2.3.4/ weight 1.2',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Weight: 1.2 }],
  },
  {
    desc: 'RouteAddServiceWeightTags',
    in: 'route add svc /prefix http://1.2.3.4/ weight 1.2 tags "a,b"',
    out: [
      { Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Weight: 1.2, Tags: ['a', 'b'] },
    ],
  },
  {
    desc: 'RouteAddServiceWeightOpts',
    in: 'route add svc /prefix http://1.2.3.4/ weight 1.2 opts "foo=bar baz=bang blimp"',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Weight: 1.2, Opts: FOO }],
    differs: {
      reason: UNKNOWN_OPTS,
      lb: {
        fail: false,
        defs: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4:80/', Weight: 1.2 }],
      },
    },
  },
  {
    desc: 'RouteAddServiceWeightTagsOpts',
    in: 'route add svc /prefix http://1.2.3.4/ weight 1.2 tags "a,b" opts "foo=bar baz=bang blimp"',
    out: [
      {
        Cmd: add,
        Service: 'svc',
        Src: '/prefix',
        Dst: 'http://1.2.3.4/',
        Weight: 1.2,
        Tags: ['a', 'b'],
        Opts: FOO,
      },
    ],
    differs: {
      reason: UNKNOWN_OPTS,
      lb: {
        fail: false,
        defs: [
          {
            Cmd: add,
            Service: 'svc',
            Src: '/prefix',
            Dst: 'http://1.2.3.4:80/',
            Weight: 1.2,
            Tags: ['a', 'b'],
          },
        ],
      },
    },
  },
  {
    desc: 'RouteAddServiceWeightTagsOptsMoreSpaces',
    in: ' route  add  svc  /prefix  http://1.2.3.4/  weight  1.2  tags  " a , b "  opts  "foo=bar  baz=bang  blimp" ',
    out: [
      {
        Cmd: add,
        Service: 'svc',
        Src: '/prefix',
        Dst: 'http://1.2.3.4/',
        Weight: 1.2,
        Tags: ['a', 'b'],
        Opts: FOO,
      },
    ],
    differs: {
      reason: UNKNOWN_OPTS,
      lb: {
        fail: false,
        defs: [
          {
            Cmd: add,
            Service: 'svc',
            Src: '/prefix',
            Dst: 'http://1.2.3.4:80/',
            Weight: 1.2,
            Tags: ['a', 'b'],
          },
        ],
      },
    },
  },
  {
    desc: 'RouteAddTags',
    in: 'route add svc /prefix http://1.2.3.4/ tags "a,b"',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteAddTagsOpts',
    in: 'route add svc /prefix http://1.2.3.4/ tags "a,b" opts "foo=bar baz=bang blimp"',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Tags: ['a', 'b'], Opts: FOO }],
    differs: {
      reason: UNKNOWN_OPTS,
      lb: {
        fail: false,
        defs: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4:80/', Tags: ['a', 'b'] }],
      },
    },
  },
  {
    desc: 'RouteAddOpts',
    in: 'route add svc /prefix http://1.2.3.4/ opts "foo=bar baz=bang blimp"',
    out: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/', Opts: FOO }],
    differs: {
      reason: UNKNOWN_OPTS,
      lb: { fail: false, defs: [{ Cmd: add, Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4:80/' }] },
    },
  },
  { desc: 'RouteDelTags', in: 'route del tags "a,b"', out: [{ Cmd: 'route del', Tags: ['a', 'b'] }] },
  {
    desc: 'RouteDelTagsMoreSpaces',
    in: 'route  del  tags  " a , b "',
    out: [{ Cmd: 'route del', Tags: ['a', 'b'] }],
  },
  { desc: 'RouteDelService', in: 'route del svc', out: [{ Cmd: 'route del', Service: 'svc' }] },
  {
    desc: 'RouteDelServiceTags',
    in: 'route del svc tags "a,b"',
    out: [{ Cmd: 'route del', Service: 'svc', Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteDelServiceTagsMoreSpaces',
    in: 'route  del  svc  tags  " a , b "',
    out: [{ Cmd: 'route del', Service: 'svc', Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteDelServiceSrc',
    in: 'route del svc /prefix',
    out: [{ Cmd: 'route del', Service: 'svc', Src: '/prefix' }],
  },
  {
    desc: 'RouteDelTCPServiceSrc',
    in: 'route del svc :1234',
    out: [{ Cmd: 'route del', Service: 'svc', Src: ':1234' }],
  },
  {
    desc: 'RouteDelServiceSrcDst',
    in: 'route del svc /prefix http://1.2.3.4/',
    out: [{ Cmd: 'route del', Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/' }],
  },
  {
    desc: 'RouteDelTCPServiceSrcDst',
    in: 'route del svc :1234 tcp://1.2.3.4:5678',
    out: [{ Cmd: 'route del', Service: 'svc', Src: ':1234', Dst: 'tcp://1.2.3.4:5678' }],
  },
  {
    desc: 'RouteDelServiceSrcDstMoreSpaces',
    in: ' route  del  svc  /prefix  http://1.2.3.4/ ',
    out: [{ Cmd: 'route del', Service: 'svc', Src: '/prefix', Dst: 'http://1.2.3.4/' }],
  },
  {
    desc: 'RouteWeightServiceSrc',
    in: 'route weight svc /prefix weight 1.2',
    out: [{ Cmd: 'route weight', Service: 'svc', Src: '/prefix', Weight: 1.2 }],
  },
  {
    desc: 'RouteWeightServiceSrcTags',
    in: 'route weight svc /prefix weight 1.2 tags "a,b"',
    out: [{ Cmd: 'route weight', Service: 'svc', Src: '/prefix', Weight: 1.2, Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteWeightServiceSrcTagsMoreSpaces',
    in: ' route  weight  svc  /prefix  weight  1.2  tags  " a , b " ',
    out: [{ Cmd: 'route weight', Service: 'svc', Src: '/prefix', Weight: 1.2, Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteWeightSrcTags',
    in: 'route weight /prefix weight 1.2 tags "a,b"',
    out: [{ Cmd: 'route weight', Src: '/prefix', Weight: 1.2, Tags: ['a', 'b'] }],
  },
  {
    desc: 'RouteWeightSrcTagsMoreSpaces',
    in: ' route  weight  /prefix  weight  1.2  tags  " a , b " ',
    out: [{ Cmd: 'route weight', Src: '/prefix', Weight: 1.2, Tags: ['a', 'b'] }],
  },
]

fabioCases(
  'TestParse',
  rows.map((r) => ({
    fabio: `TestParse/Parse-${r.desc}`,
    in: r.in,
    want:
      r.fail === true
        ? { fail: true, defs: [] }
        : {
            fail: false,
            defs: (r.out ?? []).map((d) => (d.Dst === undefined ? d : { ...d, Dst: canonDst(d.Dst) })),
          },
    ...(r.differs === undefined ? {} : { differs: r.differs }),
  })),
  parse,
)

fabioCases(
  'TestParseAliases',
  [
    { desc: 'FailEmpty', in: '', want: { fail: false, aliases: [] } },
    { desc: 'FailNoRoute', in: 'bang', want: { fail: true, aliases: [] } },
    { desc: 'FailRouteNoCmd', in: 'route x', want: { fail: true, aliases: [] } },
    { desc: 'FailRouteAddNoService', in: 'route add', want: { fail: true, aliases: [] } },
    { desc: 'FailRouteAddNoSrc', in: 'route add svc', want: { fail: true, aliases: [] } },
    {
      desc: 'RouteAddServiceWithoutAlias',
      in: 'route add alpha-be alpha/ http://1.2.3.4/ opts "strip=/path prepend=/new proto=https"',
      want: { fail: false, aliases: [] },
    },
    {
      desc: 'RouteAddServiceWithAlias',
      in: 'route add alpha-be alpha/ http://1.2.3.4/ opts "strip=/path prepend=/new proto=https register=alpha"',
      want: { fail: false, aliases: ['alpha'] },
    },
    {
      desc: 'RouteAddServicesWithoutAliases',
      in: `route add alpha-be alpha/ http://1.2.3.4/ opts "strip=/path prepend=/new proto=tcp"
			route add bravo-be bravo/ http://1.2.3.5/
			route add charlie-be charlie/ http://1.2.3.6/ opts "host=charlie"`,
      want: { fail: false, aliases: [] },
    },
    {
      desc: 'RouteAddServicesWithAliases',
      in: `route add alpha-be alpha/ http://1.2.3.4/ opts "register=alpha"
			route add bravo-be bravo/ http://1.2.3.5/ opts "strip=/foo prepend=/new register=bravo"
			route add charlie-be charlie/ http://1.2.3.5/ opts "host=charlie proto=https"
			route add delta-be delta/ http://1.2.3.5/ opts "host=delta proto=https register=delta"`,
      want: { fail: false, aliases: ['alpha', 'bravo', 'delta'] },
    },
  ].map((r) => ({ fabio: `TestParseAliases/ParseAliases-${r.desc}`, in: r.in, want: r.want })),
  (text) => ({ fail: parseCommands(text).problems.length > 0, aliases: registerAliases(text) }),
)
