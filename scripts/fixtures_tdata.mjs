// Telegram Desktop tdata fixtures, written by @mtcute/convert's own convertToTdata (which
// writes key_datas and each account's MTP authorization as Desktop does), from random keys:
// one account without a passcode, one with a passcode, and three accounts. Run by
// scripts/fixtures.sh:  node scripts/fixtures_tdata.mjs OUT_DIR  (NODE_PATH = node_modules)
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const nm = process.env.NODE_PATH
const out = process.argv[2]
const { convertToTdata, serializeMtkrutoSession } = await import(join(nm, '@mtcute/convert/index.js'))
const version = JSON.parse(readFileSync(join(nm, '@mtcute/convert/package.json'))).version
const keyId = (key) => Buffer.from(createHash('sha1').update(key).digest().subarray(12, 20)).reverse().toString('hex')

const manifestPath = join(out, 'tdata-manifest.json')
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath)) : {}

const session = (dc, userId) => {
  const key = randomBytes(256)
  const main = { id: dc, ipAddress: dc === 2 ? '149.154.167.50' : '149.154.175.55', port: 443 }
  return {
    data: { version: 3, primaryDcs: { main, media: main }, self: { userId, isBot: false, isPremium: false, usernames: [] }, authKey: key },
    entry: { dc_id: dc, user_id: userId, key_id: keyId(key) },
  }
}

for (const [name, passcode, accounts] of [
  ['tdata-simple', '', [[2, 5000000101]]],
  ['tdata-passcode', 'fixture-passcode', [[2, 5000000102]]],
  ['tdata-multi', '', [[2, 5000000103], [1, 5000000104], [2, 5000000105]]],
]) {
  const dir = join(out, name, 'tdata')
  rmSync(join(out, name), { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const made = accounts.map(([dc, uid]) => session(dc, uid))
  await convertToTdata(made.map((m) => m.data), { path: dir, passcode })
  manifest[name] = {
    format: 'tdata', library: `@mtcute/convert ${version}`, passcode: passcode || null,
    accounts: made.map((m) => m.entry),
  }
}
writeFileSync(manifestPath, JSON.stringify(Object.fromEntries(Object.entries(manifest).sort()), null, 2) + '\n')

// MTKruto strings, through @mtcute/convert's MTKruto serialiser (MTKruto itself is not on
// npm): production and test DCs. They go to the main manifest with the other strings.
const mainPath = join(out, 'manifest.json')
const main = JSON.parse(readFileSync(mainPath))
for (const [tag, dcId, isTest] of [['prod', 4, false], ['test', 2, true]]) {
  const key = randomBytes(256)
  const name = `mtkruto-${tag}.string`
  writeFileSync(join(out, name), serializeMtkrutoSession({ dcId, isTest, authKey: key }) + '\n')
  main[name] = {
    format: 'mtkruto-string', library: `@mtcute/convert ${version} (MTKruto serialiser)`,
    dc_id: dcId, address: null, key_id: keyId(key), user_id: null, bot: null, test_mode: isTest,
  }
}
writeFileSync(mainPath, JSON.stringify(Object.fromEntries(Object.entries(main).sort()), null, 2) + '\n')
