#!/usr/bin/env node
// Serialises the sandbox's four layer-dependent answers with GramJS's or mtcute's own TL
// writers, for crates/sandbox/tests/fixtures/layers/LIBRARY.json (checked by crates/sandbox/src/layers/tests.rs).
// The values are the ones scripts/layer_fixtures.py uses (the sandbox's, for 9996621234).
// Not part of `cargo test`; run scripts/layers.sh. Usage (NODE_PATH = its node_modules):
//   node layer_fixtures.cjs gramjs|mtcute
'use strict'
const path = require('path')
const fs = require('fs')

// A package's directory, found from its entry point (some do not export package.json).
function pkgDir(name) {
  let d = path.dirname(require.resolve(name))
  while (!fs.existsSync(path.join(d, 'package.json'))) d = path.dirname(d)
  return d
}

const USER = { id: 700021234, accessHash: 0x1122334455667788n, firstName: 'Sandbox', username: 'sandbox_21234', phone: '9996621234' }
const CONFIG = {
  date: 1700000000, expires: 1700003600, testMode: true, thisDc: 2,
  dcTxtDomainName: 'sandbox.invalid', chatSizeMax: 200, megagroupSizeMax: 200000,
  forwardedCountMax: 100, onlineUpdatePeriodMs: 210000, offlineBlurTimeoutMs: 5000,
  offlineIdleTimeoutMs: 30000, onlineCloudTimeoutMs: 300000, notifyCloudDelayMs: 30000,
  notifyDefaultDelayMs: 1500, pushChatPeriodMs: 60000, pushChatLimit: 2,
  editTimeLimit: 172800, revokeTimeLimit: 2147483647, revokePmTimeLimit: 2147483647,
  ratingEDecay: 2419200, stickersRecentLimit: 200, channelsReadMediaPeriod: 604800,
  callReceiveTimeoutMs: 20000, callRingTimeoutMs: 90000, callConnectTimeoutMs: 30000,
  callPacketTimeoutMs: 10000, meUrlPrefix: 'https://t.me/', captionLengthMax: 1024,
  messageLengthMax: 4096, webfileDcId: 2, revokePmInbox: true,
}

function gramjs() {
  const { Api } = require('telegram')
  const { LAYER } = require('telegram/tl/AllTLObjects')
  const bigInt = require('big-integer')
  const user = new Api.User({ ...USER, id: bigInt(USER.id), accessHash: bigInt(USER.accessHash.toString()), self: true, storiesUnavailable: true })
  const full = new Api.UserFull({ id: bigInt(USER.id), settings: new Api.PeerSettings({}), notifySettings: new Api.PeerNotifySettings({}), commonChatsCount: 0 })
  const dcOptions = [1, 2, 3].map(id => new Api.DcOption({ static: true, id, ipAddress: '127.0.0.1', port: 40000 }))
  const hex = o => Buffer.from(o.getBytes()).toString('hex')
  return ['telegram', LAYER, {
    user: hex(user),
    'users.userFull': hex(new Api.users.UserFull({ fullUser: full, chats: [], users: [user] })),
    config: hex(new Api.Config({ ...CONFIG, dcOptions })),
    'auth.authorization': hex(new Api.auth.Authorization({ user })),
  }]
}

function mtcute() {
  const core = pkgDir('@mtcute/core')
  const { TlBinaryWriter } = require('@mtcute/tl-runtime')
  const { __tlWriterMap } = require(path.join(core, 'tl/binary/writer.cjs'))
  const schema = require(path.join(core, 'tl/api-schema.json'))
  const Long = require('long')
  const user = { _: 'user', ...USER, accessHash: Long.fromString(USER.accessHash.toString()), self: true, storiesUnavailable: true }
  const full = { _: 'userFull', id: USER.id, settings: { _: 'peerSettings' }, notifySettings: { _: 'peerNotifySettings' }, commonChatsCount: 0 }
  const dcOptions = [1, 2, 3].map(id => ({ _: 'dcOption', static: true, id, ipAddress: '127.0.0.1', port: 40000 }))
  const hex = o => Buffer.from(TlBinaryWriter.serializeObject(__tlWriterMap, o)).toString('hex')
  return ['@mtcute/core', schema.l, {
    user: hex(user),
    'users.userFull': hex({ _: 'users.userFull', fullUser: full, chats: [], users: [user] }),
    config: hex({ _: 'config', ...CONFIG, dcOptions }),
    'auth.authorization': hex({ _: 'auth.authorization', user }),
  }]
}

const [library, layer, objects] = { gramjs, mtcute }[process.argv[2]]()
const version = require(path.join(pkgDir(library), 'package.json')).version
console.log(JSON.stringify({ library, version, layer, ...objects }, null, 1))
