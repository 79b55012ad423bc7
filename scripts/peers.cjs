#!/usr/bin/env node
// One real JavaScript MTProto client walks the whole path on a fresh `tgsess sandbox`.
// Not part of `cargo test`; run scripts/peers. Usage (NODE_PATH = the packages' node_modules):
//   node peers.cjs gramjs|mtcute SANDBOX_DIR PHONE CODE     (2FA password on stdin)
// The client trusts the sandbox's server_key.pem, creates a fresh auth key with it, sends a
// code, signs in with 2FA, calls getMe and logs out. Prints one line: each step done, or the
// step that failed and why. Every connection is held to loopback (loopback.cjs).
'use strict'
const fs = require('fs')
const path = require('path')

function pkgDir(name) {
  let d = path.dirname(require.resolve(name))
  while (!fs.existsSync(path.join(d, 'package.json'))) d = path.dirname(d)
  return d
}

/** (n, e) of a PKCS#1 `RSA PUBLIC KEY`: SEQUENCE { INTEGER n, INTEGER e }. */
function readPem(file) {
  const der = Buffer.from(fs.readFileSync(file, 'utf8').split('\n').filter(l => l && !l.startsWith('-----')).join(''), 'base64')
  const item = (buf, at) => {
    let len = buf[at + 1]
    at += 2
    if (len & 0x80) {
      const n = len & 0x7f
      len = buf.readUIntBE(at, n)
      at += n
    }
    return [buf.subarray(at, at + len), at + len]
  }
  const [seq] = item(der, 0)
  const [n, at] = item(seq, 0)
  const [e] = item(seq, at)
  return { n: BigInt('0x' + n.toString('hex')), e: BigInt('0x' + e.toString('hex')) }
}

class Steps {
  constructor(label) { this.label = label; this.done = [] }
  ok(what) { this.done.push(what) }
  line(error) {
    const p = this.done.join(', ') || 'nothing'
    return error === undefined ? `${this.label}: ${p}: OK` : `${this.label}: ${p}; FAILED: ${error}`
  }
}

async function gramjs(sb, port, phone, code, password, steps) {
  const { TelegramClient, Api } = require('telegram')
  const { StringSession } = require('telegram/sessions')
  const { PromisedNetSockets } = require('telegram/extensions')
  const { LAYER } = require('telegram/tl/AllTLObjects')
  const { _serverKeys } = require('telegram/crypto/RSA')
  const bigInt = require('big-integer')
  steps.label += ` (layer ${LAYER})`
  const { n, e } = readPem(path.join(sb, 'server_key.pem'))
  const fingerprint = fs.readFileSync(path.join(sb, 'server_key.fingerprint'), 'utf8').trim()
  _serverKeys.set(fingerprint, { n: bigInt(n.toString()), e: Number(e) })
  // GramJS connects to port 80 whatever the session says (TelegramClient.connect:
  // `port: this.useWSS ? 443 : 80`); its networkSocket option is where a port is chosen.
  class SandboxSocket extends PromisedNetSockets {
    connect(_port, ip) { return super.connect(port, ip) }
  }
  // The session's port is never used to connect (above), and StringSession.save writes it
  // with writeInt16BE, which throws for ports above 32767 such as the sandbox's: keep 80.
  const session = new StringSession('')
  session.setDC(2, '127.0.0.1', 80)
  const { Logger } = require('telegram/extensions')
  const baseLogger = new Logger(process.env.GRAMJS_LOG || 'none')
  const client = new TelegramClient(session, 1, 'sandbox', { connectionRetries: 1, networkSocket: SandboxSocket, autoReconnect: false, baseLogger })
  await client.connect()
  try {
    steps.ok(`key exchange (${client.session.getAuthKey().getKey().length} bytes)`)
    const { phoneCodeHash } = await client.sendCode({ apiId: 1, apiHash: 'sandbox' }, phone)
    steps.ok('code sent')
    try {
      await client.invoke(new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash, phoneCode: code }))
      steps.ok('signed in WITHOUT 2FA')
    } catch (err) {
      if (err.errorMessage !== 'SESSION_PASSWORD_NEEDED') throw err
      await client.signInWithPassword({ apiId: 1, apiHash: 'sandbox' }, { password: async () => password, onError: async e => { throw e } })
      steps.ok('signed in with 2FA')
    }
    const me = await client.getMe()
    steps.ok(`get_me id ${me.id} @${me.username}`)
    await client.invoke(new Api.auth.LogOut())
    steps.ok('logged out')
  } finally {
    await client.destroy()
  }
}

async function mtcute(sb, port, phone, code, password, steps) {
  const { TelegramClient } = require('@mtcute/node')
  const { MemoryStorage } = require('@mtcute/core')
  const core = pkgDir('@mtcute/core')
  const { __publicKeyIndex } = require(path.join(core, 'tl/binary/rsa-keys.cjs'))
  steps.label += ` (layer ${require(path.join(core, 'tl/api-schema.json')).l})`
  const { n, e } = readPem(path.join(sb, 'server_key.pem'))
  // mtcute looks keys up by the unsigned hex of the fingerprint (utils/crypto/keys.js
  // `findKeyByFingerprints`).
  const fp = BigInt.asUintN(64, BigInt(fs.readFileSync(path.join(sb, 'server_key.fingerprint'), 'utf8').trim())).toString(16)
  __publicKeyIndex[fp] = { modulus: n.toString(16), exponent: e.toString(16), fingerprint: fp, old: false }
  const dc = { id: 2, ipAddress: '127.0.0.1', port }
  const tg = new TelegramClient({ apiId: 1, apiHash: 'sandbox', storage: new MemoryStorage(), defaultDcs: { main: dc, media: dc }, logLevel: 0 })
  try {
    await tg.connect()
    steps.ok('key exchange')
    const sent = await tg.sendCode({ phone })
    steps.ok('code sent')
    try {
      await tg.signIn({ phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: code })
      steps.ok('signed in WITHOUT 2FA')
    } catch (err) {
      if (!/SESSION_PASSWORD_NEEDED/.test(String(err && (err.text || err.message)))) throw err
      await tg.checkPassword(password)
      steps.ok('signed in with 2FA')
    }
    const me = await tg.getMe()
    steps.ok(`get_me id ${me.id} @${me.username}`)
    await tg.logOut()
    steps.ok('logged out')
  } finally {
    await tg.destroy()
  }
}

async function main() {
  require('./loopback.cjs')
  const [lib, sb, phone, code] = process.argv.slice(2)
  const password = fs.readFileSync(0, 'utf8').split('\n')[0]
  const port = Number(JSON.parse(fs.readFileSync(path.join(sb, 'sandbox.json'), 'utf8')).address.split(':').pop())
  const [dist, run] = { gramjs: ['telegram', gramjs], mtcute: ['@mtcute/core', mtcute] }[lib]
  const version = require(path.join(pkgDir(dist), 'package.json')).version
  const steps = new Steps(`${lib} ${version}`)
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('60 s timeout')), 60000).unref())
  try {
    await Promise.race([run(sb, port, phone, code, password, steps), timeout])
  } catch (err) {
    console.log(steps.line(`${err && err.constructor && err.constructor.name}: ${err && (err.errorMessage || err.message)}`))
    process.exit(1)
  }
  console.log(steps.line())
  process.exit(0)
}

main()
