// Session-string fixtures made by the real JavaScript libraries, with random keys:
// GramJS (`telegram` on npm, its own StringSession.save()) and mtcute (`@mtcute/core`'s
// writeStringSession, as `@mtcute/node` exports sessions). Run by scripts/fixtures.sh:
//   node scripts/fixtures_js.mjs OUT_DIR   (with NODE_PATH pointing at their node_modules)
import { createRequire } from 'node:module'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const require = createRequire(join(process.env.NODE_PATH, 'x.js'))
const out = process.argv[2]
const { StringSession } = require('telegram/sessions')
const { AuthKey } = require('telegram/crypto/AuthKey')
const gramjsVersion = require('telegram/package.json').version
const mtcuteUtils = await import(join(process.env.NODE_PATH, '@mtcute/core/utils.js'))
const mtcuteVersion = JSON.parse(readFileSync(join(process.env.NODE_PATH, '@mtcute/core/package.json'))).version

const keyId = (key) => Buffer.from(createHash('sha1').update(key).digest().subarray(12, 20)).reverse().toString('hex')
const manifestPath = join(out, 'manifest.json')
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath)) : {}
const add = (name, text, entry) => {
  writeFileSync(join(out, name), text + '\n')
  manifest[name] = entry
}

// GramJS: IPv4 and IPv6 addresses, through StringSession.save().
for (const [tag, dc, ip, port] of [['ipv4', 2, '149.154.167.51', 443], ['ipv6', 4, '2001:67c:4e8:f004::a', 443]]) {
  const key = randomBytes(256)
  const s = new StringSession('')
  s.setDC(dc, ip, port)
  const ak = new AuthKey()
  await ak.setKey(key)
  s.setAuthKey(ak)
  add(`gramjs-${tag}.string`, s.save(), {
    format: 'gramjs-string', library: `telegram ${gramjsVersion}`, dc_id: dc,
    address: tag === 'ipv6' ? `[${ip}]:${port}` : `${ip}:${port}`, key_id: keyId(key), user_id: null, bot: null,
  })
}

// mtcute: a user, a bot on another DC, and a key with no user recorded.
for (const [tag, dc, ip, self] of [
  ['user', 2, '149.154.167.50', { userId: 5000000001, isBot: false }],
  ['bot', 4, '149.154.167.91', { userId: 6000000002, isBot: true }],
  ['nouser', 1, '149.154.175.55', null],
]) {
  const key = randomBytes(256)
  const main = { id: dc, ipAddress: ip, port: 443 }
  const text = mtcuteUtils.writeStringSession({
    version: 3,
    primaryDcs: { main, media: main },
    self: self ? { ...self, isPremium: false, usernames: [] } : null,
    authKey: key,
  })
  add(`mtcute-${tag}.string`, text, {
    format: 'mtcute-string', library: `@mtcute/core ${mtcuteVersion}`, dc_id: dc,
    address: `${ip}:443`, key_id: keyId(key), user_id: self ? self.userId : null, bot: self ? self.isBot : null,
  })
}
writeFileSync(manifestPath, JSON.stringify(Object.fromEntries(Object.entries(manifest).sort()), null, 2) + '\n')
