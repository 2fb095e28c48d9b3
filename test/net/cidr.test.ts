import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isIP } from 'node:net'
import { CidrSet, ipFamily, parseCidr, unmapIPv4 } from '../../src/net/cidr.js'

test('parseCidr accepts and canonicalises', async (t) => {
  const cases = [
    { desc: 'IPv4 network', input: '10.0.0.0/8', family: 4, prefix: 8, cidr: '10.0.0.0/8' },
    { desc: 'IPv4 host bits cleared', input: '10.1.2.3/8', family: 4, prefix: 8, cidr: '10.0.0.0/8' },
    { desc: 'IPv4 /0', input: '1.2.3.4/0', family: 4, prefix: 0, cidr: '0.0.0.0/0' },
    { desc: 'IPv4 odd prefix', input: '192.168.1.130/25', family: 4, prefix: 25, cidr: '192.168.1.128/25' },
    { desc: 'bare IPv4 is /32', input: '127.0.0.1', family: 4, prefix: 32, cidr: '127.0.0.1/32' },
    { desc: 'surrounding space trimmed', input: ' 10.0.0.1/32 ', family: 4, prefix: 32, cidr: '10.0.0.1/32' },
    { desc: 'high octets', input: '255.255.255.255', family: 4, prefix: 32, cidr: '255.255.255.255/32' },
    { desc: 'IPv6 network', input: 'fd00::/8', family: 6, prefix: 8, cidr: 'fd00::/8' },
    { desc: 'bare IPv6 is /128', input: '::1', family: 6, prefix: 128, cidr: '::1/128' },
    { desc: 'IPv6 upper case', input: '2001:DB8::1/32', family: 6, prefix: 32, cidr: '2001:db8::/32' },
    {
      desc: 'IPv6 full form',
      input: '2001:0db8:0:0:0:0:0:1',
      family: 6,
      prefix: 128,
      cidr: '2001:db8::1/128',
    },
    { desc: 'IPv6 :: alone', input: '::/0', family: 6, prefix: 0, cidr: '::/0' },
    { desc: 'IPv6 trailing ::', input: 'fe80::/10', family: 6, prefix: 10, cidr: 'fe80::/10' },
    {
      desc: 'IPv6 longest zero run',
      input: '1:0:0:2:0:0:0:3',
      family: 6,
      prefix: 128,
      cidr: '1:0:0:2::3/128',
    },
    {
      desc: 'IPv6 single zero not compressed',
      input: '1:0:2:3:4:5:6:7',
      family: 6,
      prefix: 128,
      cidr: '1:0:2:3:4:5:6:7/128',
    },
    {
      desc: 'IPv6 embedded IPv4',
      input: '64:ff9b::192.0.2.1',
      family: 6,
      prefix: 128,
      cidr: '64:ff9b::c000:201/128',
    },
    {
      desc: 'mapped IPv4 network',
      input: '::ffff:10.0.0.0/104',
      family: 6,
      prefix: 104,
      cidr: '::ffff:10.0.0.0/104',
    },
  ] as const
  for (const c of cases) {
    await t.test(c.desc, () => {
      const got = parseCidr(c.input)
      assert.ok(got.ok, `${c.input}: ${got.ok ? '' : got.reason}`)
      assert.equal(got.family, c.family)
      assert.equal(got.prefix, c.prefix)
      assert.equal(got.cidr, c.cidr)
    })
  }
})

test('parseCidr rejects', async (t) => {
  const cases = [
    { desc: 'empty', input: '' },
    { desc: 'blank', input: '   ' },
    { desc: 'hostname', input: 'example.com' },
    { desc: 'three octets', input: '10.0.0/8' },
    { desc: 'five octets', input: '10.0.0.0.0' },
    { desc: 'octet over 255', input: '10.0.0.256' },
    { desc: 'leading zero octet', input: '010.0.0.1' },
    { desc: 'empty octet', input: '10..0.1' },
    { desc: 'trailing dot', input: '10.0.0.1.' },
    { desc: 'IPv4 prefix over 32', input: '10.0.0.0/33' },
    { desc: 'negative prefix', input: '10.0.0.0/-1' },
    { desc: 'empty prefix', input: '10.0.0.0/' },
    { desc: 'prefix with leading zero', input: '10.0.0.0/08' },
    { desc: 'prefix not a number', input: '10.0.0.0/x' },
    { desc: 'two slashes', input: '10.0.0.0/8/9' },
    { desc: 'IPv6 prefix over 128', input: '::/129' },
    { desc: 'IPv6 two ::', input: '1::2::3' },
    { desc: 'IPv6 group of 5 digits', input: '12345::' },
    { desc: 'IPv6 nine groups', input: '1:2:3:4:5:6:7:8:9' },
    { desc: 'IPv6 seven groups', input: '1:2:3:4:5:6:7' },
    { desc: 'IPv6 leading single colon', input: ':1::' },
    { desc: 'IPv6 trailing single colon', input: '1::2:' },
    { desc: 'IPv6 triple colon', input: ':::' },
    { desc: 'IPv6 bad hex', input: 'fg::1' },
    { desc: 'IPv6 embedded IPv4 not last', input: '1.2.3.4::' },
    { desc: 'IPv6 embedded IPv4 too many groups', input: '1:2:3:4:5:6:7:1.2.3.4' },
    { desc: 'zone index', input: 'fe80::1%eth0' },
    { desc: 'brackets', input: '[::1]' },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      const got = parseCidr(c.input)
      assert.equal(got.ok, false)
      assert.ok(!got.ok && got.reason.length > 0)
    })
  }
})

test('ipFamily agrees with net.isIP', async (t) => {
  const inputs = [
    '127.0.0.1',
    '0.0.0.0',
    '1.2.3',
    '256.1.1.1',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::FFFF:7f00:1',
    'fe80::1%eth0',
    'fe80::1%',
    '1.2.3.4%eth0',
    '2001:db8:0:0:1:0:0:1',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    'localhost',
    '',
    ':',
    'kube.controller01',
    '1::2::3',
    '1:2:3:4:5:6:1.2.3.4',
  ]
  for (const ip of inputs) {
    await t.test(JSON.stringify(ip), () => {
      assert.equal(ipFamily(ip), isIP(ip))
    })
  }
})

test('unmapIPv4', async (t) => {
  const cases = [
    { desc: 'mapped dotted', ip: '::ffff:10.0.0.1', want: '10.0.0.1' },
    { desc: 'mapped upper case', ip: '::FFFF:10.0.0.1', want: '10.0.0.1' },
    { desc: 'plain IPv4', ip: '10.0.0.1', want: '10.0.0.1' },
    { desc: 'plain IPv6', ip: '::1', want: '::1' },
    { desc: 'mapped hex form left alone', ip: '::ffff:a00:1', want: '::ffff:a00:1' },
    { desc: 'not an address', ip: '::ffff:nope', want: '::ffff:nope' },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => assert.equal(unmapIPv4(c.ip), c.want))
  }
})

test('CidrSet.has', async (t) => {
  const cases = [
    { desc: 'empty set', cidrs: [], yes: [], no: ['127.0.0.1', '::1', 'garbage'] },
    {
      desc: 'IPv4 /8',
      cidrs: ['10.0.0.0/8'],
      yes: ['10.0.0.1', '10.255.255.255', '10.0.0.0'],
      no: ['11.0.0.1', '9.255.255.255', '192.168.0.1', '::1'],
    },
    {
      desc: 'IPv4 high addresses (sign bit)',
      cidrs: ['192.168.0.0/16', '255.255.255.255/32'],
      yes: ['192.168.1.1', '255.255.255.255'],
      no: ['192.169.0.1', '255.255.255.254', '64.168.0.1'],
    },
    {
      desc: 'IPv4 /0 matches every IPv4',
      cidrs: ['0.0.0.0/0'],
      yes: ['1.2.3.4', '255.0.0.1'],
      no: ['2001:db8::1'],
    },
    { desc: 'bare IPv4', cidrs: ['127.0.0.1'], yes: ['127.0.0.1'], no: ['127.0.0.2'] },
    {
      desc: 'IPv4-mapped peers match IPv4 networks',
      cidrs: ['127.0.0.0/8', '10.1.0.0/16'],
      yes: ['::ffff:127.0.0.1', '::FFFF:10.1.2.3', '::ffff:7f00:1', '0:0:0:0:0:ffff:10.1.0.9'],
      no: ['::ffff:10.2.0.1', '::127.0.0.1', '::1'],
    },
    {
      desc: 'IPv6 network',
      cidrs: ['fd00::/8'],
      yes: ['fd00::1', 'fdff:ffff::1', 'FD12:3456::abcd'],
      no: ['fe00::1', '::1', '10.0.0.1'],
    },
    {
      desc: 'IPv6 prefix inside a word',
      cidrs: ['2001:db8:abcd:12::/63'],
      yes: ['2001:db8:abcd:12::1', '2001:db8:abcd:13:ffff::'],
      no: ['2001:db8:abcd:14::', '2001:db8:abcd:11::1'],
    },
    { desc: 'bare IPv6', cidrs: ['::1'], yes: ['::1', '0:0:0:0:0:0:0:1'], no: ['::2', '127.0.0.1'] },
    {
      desc: 'IPv6 zone ignored on the address',
      cidrs: ['fe80::/10'],
      yes: ['fe80::1%eth0'],
      no: ['fec0::1%eth0'],
    },
    {
      desc: 'mapped IPv6 network matches IPv4 and mapped peers',
      cidrs: ['::ffff:10.0.0.0/104'],
      yes: ['10.9.8.7', '::ffff:10.9.8.7'],
      no: ['11.0.0.1', '::ffff:11.0.0.1', '::10.0.0.1'],
    },
    {
      desc: '::/0 matches everything',
      cidrs: ['::/0'],
      yes: ['::1', '10.0.0.1', '::ffff:1.2.3.4'],
      no: ['nope'],
    },
    { desc: '::/1 covers the mapped range', cidrs: ['::/1'], yes: ['1.2.3.4', '::1'], no: ['8000::1'] },
    { desc: 'fd00::/8 does not cover IPv4', cidrs: ['fd00::/8'], yes: [], no: ['1.2.3.4', '::ffff:1.2.3.4'] },
    {
      desc: 'mixed list',
      cidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '::1'],
      yes: ['172.31.255.1', '::ffff:192.168.3.4', 'fc01::2', '::1'],
      no: ['172.32.0.1', '8.8.8.8', '2001:4860::8888'],
    },
    {
      desc: 'garbage never matches',
      cidrs: ['0.0.0.0/0', '::/0'],
      yes: [],
      no: ['', 'localhost', '1.2.3.4.5', '010.0.0.1', '1.2.3.4 ', '[::1]', '::ffff:'],
    },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      const set = new CidrSet(c.cidrs)
      assert.equal(set.size, c.cidrs.length)
      for (const ip of c.yes) assert.equal(set.has(ip), true, `${ip} in ${c.cidrs.join(',')}`)
      for (const ip of c.no) assert.equal(set.has(ip), false, `${ip} not in ${c.cidrs.join(',')}`)
    })
  }
})

test('CidrSet constructor rejects invalid entries', () => {
  assert.throws(() => new CidrSet(['10.0.0.0/8', 'nope']), { name: 'RangeError', message: /"nope"/ })
})
