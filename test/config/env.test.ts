/** `${VAR}` expansion and `<key>_file` indirection, through loadConfig with an in-memory file system. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../src/model/errors.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config, Env } from '../../src/config/types.js'
import { edit, yaml } from './helpers.js'

const configPath = '/etc/lb/lb.yaml'

/** loadConfig over an in-memory file system; the config itself is at /etc/lb/lb.yaml. */
async function load(text: string, env: Env = {}, files: Record<string, string> = {}): Promise<Config> {
  const fs = new Map<string, string>([[configPath, text], ...Object.entries(files)])
  return loadConfig({
    path: configPath,
    env,
    readFile: async (p) => {
      const content = fs.get(p)
      if (content === undefined)
        throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), { code: 'ENOENT' })
      return content
    },
  })
}

async function problems(text: string, env: Env = {}, files: Record<string, string> = {}): Promise<string[]> {
  try {
    await load(text, env, files)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)
    throw err
  }
  return []
}

function want(change: Parameters<typeof edit>[0]): Config {
  return { ...edit(change), file: configPath }
}

const expanded: { desc: string; input: string; env?: Env; files?: Record<string, string>; want: Config }[] = [
  {
    desc: 'a variable in a string',
    input: 'admin: { token: "${LB_ADMIN_TOKEN}" }\n',
    env: { LB_ADMIN_TOKEN: 't0ken' },
    want: want((c) => {
      c.admin.token = 't0ken'
    }),
  },
  {
    desc: 'variables inside a longer string',
    input: 'log: { destination: "/var/log/${APP}-${ENV}.log" }\n',
    env: { APP: 'lb', ENV: 'prod' },
    want: want((c) => {
      c.log.destination = '/var/log/lb-prod.log'
    }),
  },
  {
    desc: 'a variable set to the empty string',
    input: 'http: { request_id_header: "${RID}" }\n',
    env: { RID: '' },
    want: want(() => {}),
  },
  {
    desc: '$$ is a literal $ and other $ are kept',
    input: yaml`
      services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { path: /old, redirect: { url: "https://$host$path?cost=$$5" } }
    `,
    want: want((c) => {
      c.services = [
        {
          name: 'web',
          ...structuredClone(c.defaults),
          proto: 'http',
          tlsSkipVerify: false,
          servers: [
            {
              name: '127.0.0.1:1',
              host: '127.0.0.1',
              port: 1,
              weight: 1,
              backup: false,
              maxconn: 0,
              state: 'up',
              check: true,
            },
          ],
        },
      ]
      c.routes = [
        {
          host: '',
          path: '/old',
          service: '',
          strip: '',
          prepend: '',
          hostHeader: '',
          redirect: { code: 302, url: 'https://$host$path?cost=$5' },
        },
      ]
    }),
  },
  {
    desc: 'numbers, booleans and durations from variables',
    input: yaml`
      defaults: { retries: "\${RETRIES}", timeouts: { connect: "\${CONNECT}" } }
      log: { access: { enabled: "\${ACCESS}" } }
    `,
    env: { RETRIES: '5', CONNECT: '250ms', ACCESS: 'false' },
    want: want((c) => {
      c.defaults.retries = 5
      c.defaults.timeouts.connect = 250
      c.log.access.enabled = false
    }),
  },
  {
    desc: 'token_file: the trimmed content of the file',
    input: 'admin: { token_file: /run/secrets/admin }\n',
    files: { '/run/secrets/admin': '  s3cret\n' },
    want: want((c) => {
      c.admin.token = 's3cret'
    }),
  },
  {
    desc: 'a relative _file path is relative to the config file',
    input: 'admin: { token_file: admin.token }\n',
    files: { '/etc/lb/admin.token': 's3cret\n' },
    want: want((c) => {
      c.admin.token = 's3cret'
    }),
  },
  {
    desc: 'a variable in a _file path',
    input: 'admin: { token_file: "${CREDENTIALS_DIRECTORY}/admin" }\n',
    env: { CREDENTIALS_DIRECTORY: '/run/credentials/lb.service' },
    files: { '/run/credentials/lb.service/admin': 's3cret' },
    want: want((c) => {
      c.admin.token = 's3cret'
    }),
  },
  {
    desc: 'the _file mechanism is generic: any key, numbers parsed from the content',
    input: yaml`
      http: { request_id_header_file: /etc/lb/rid }
      defaults: { retries_file: /etc/lb/retries }
    `,
    files: { '/etc/lb/rid': 'X-Trace-Id\n', '/etc/lb/retries': '7\n' },
    want: want((c) => {
      c.http.requestIdHeader = 'X-Trace-Id'
      c.defaults.retries = 7
    }),
  },
]

for (const c of expanded) {
  test(`env: ${c.desc}`, async () => {
    assert.deepEqual(await load(c.input, c.env, c.files), c.want)
  })
}

const f = configPath
const rejected: { desc: string; input: string; env?: Env; files?: Record<string, string>; want: string[] }[] =
  [
    {
      desc: 'an unset variable is reported at its path, by name',
      input: 'admin: { token: "${LB_ADMIN_TOKEN}" }\n',
      want: [`${f}: admin.token: environment variable LB_ADMIN_TOKEN is not set`],
    },
    {
      desc: 'every unset variable of a string is reported',
      input: 'log: { destination: "/var/log/${APP}-${ENV}.log" }\n',
      want: [
        `${f}: log.destination: environment variable APP is not set`,
        `${f}: log.destination: environment variable ENV is not set`,
      ],
    },
    {
      desc: 'a malformed reference',
      input: 'admin: { token: "${LB ADMIN}" }\n',
      want: [`${f}: admin.token: malformed \${...} reference (expected \${NAME}; write $$ for a literal $)`],
    },
    {
      desc: 'an unclosed reference',
      input: 'admin: { token: "abc${X" }\n',
      want: [`${f}: admin.token: malformed \${...} reference (expected \${NAME}; write $$ for a literal $)`],
    },
    {
      desc: 'a number that is not one',
      input: 'defaults: { retries: "${RETRIES}" }\n',
      env: { RETRIES: 'many' },
      want: [`${f}: defaults.retries: expected an integer, got "many"`],
    },
    {
      desc: 'a boolean that is not one shows the expanded value',
      input: 'log: { access: { enabled: "${ACCESS}" } }\n',
      env: { ACCESS: 'yes' },
      want: [`${f}: log.access.enabled: expected true or false, got "yes"`],
    },
    {
      desc: 'an escaped reference is literal text, not a substitution',
      input: 'defaults: { retries: "$${RETRIES}" }\n',
      env: { RETRIES: '3' },
      want: [`${f}: defaults.retries: expected an integer, got "$\${RETRIES}"`],
    },
    {
      desc: 'an unreadable _file names the file',
      input: 'admin: { token_file: /run/secrets/missing }\n',
      want: [`${f}: admin.token_file: cannot read /run/secrets/missing: ENOENT`],
    },
    {
      desc: 'a relative unreadable _file is named by its full path',
      input: 'admin: { token_file: missing.token }\n',
      want: [`${f}: admin.token_file: cannot read /etc/lb/missing.token: ENOENT`],
    },
    {
      desc: 'token and token_file together',
      input: 'admin: { token: a, token_file: /run/secrets/admin }\n',
      files: { '/run/secrets/admin': 'b' },
      want: [`${f}: admin.token_file: set either token or token_file, not both`],
    },
    {
      desc: 'an unset variable in a _file path',
      input: 'admin: { token_file: "${DIR}/admin" }\n',
      want: [`${f}: admin.token_file: environment variable DIR is not set`],
    },
    {
      desc: 'a _file path that is not a string',
      input: 'admin: { token_file: [a] }\n',
      want: [`${f}: admin.token_file: expected a file path, got a list`],
    },
    {
      desc: 'bad file content is reported without echoing it',
      input: 'admin: { token_file: /run/secrets/admin }\ndefaults: { retries_file: /etc/lb/retries }\n',
      files: { '/run/secrets/admin': 'two words', '/etc/lb/retries': 'hunter2' },
      want: [
        `${f}: defaults.retries_file: expected an integer, got the content of retries_file`,
        `${f}: admin.token_file: must not contain spaces or control characters`,
      ],
    },
    {
      desc: 'a secret token with spaces is not echoed',
      input: 'admin: { token: "${TOKEN}" }\n',
      env: { TOKEN: 'hunter2 hunter2' },
      want: [`${f}: admin.token: must not contain spaces or control characters`],
    },
  ]

for (const c of rejected) {
  test(`env rejected: ${c.desc}`, async () => {
    const got = await problems(c.input, c.env, c.files)
    assert.deepEqual(got, c.want)
    for (const line of got) assert.doesNotMatch(line, /hunter2|two words/)
  })
}

test('env rejected: the config file itself cannot be read', async () => {
  await assert.rejects(
    loadConfig({
      path: 'missing.yaml',
      env: {},
      readFile: async () => {
        throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })
      },
    }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === 'EDGE_CONFIG_INVALID' &&
      err.problems.length === 1 &&
      err.problems[0]?.file === 'missing.yaml' &&
      err.problems[0].message === 'cannot read config file: ENOENT',
  )
})
