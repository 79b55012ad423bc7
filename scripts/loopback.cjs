// Holds a Node.js program to loopback: net.Socket.connect to any other address throws, so
// nothing can reach Telegram even if a library falls back to its built-in DC table.
// Preload it (`node -r ./scripts/loopback.cjs PROGRAM`) or require it first.
'use strict'
const net = require('net')
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  const o = typeof args[0] === 'object' ? args[0] : { port: args[0], host: args[1] }
  const host = o.host || 'localhost'
  if (!(net.isIP(host) && (host.startsWith('127.') || host === '::1')) && host !== 'localhost') {
    throw new Error(`loopback.cjs: refusing to connect to ${host}`)
  }
  return connect.apply(this, args)
}
