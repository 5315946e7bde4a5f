// Bench helper: `node registry-delay-proxy.mjs <port> <delayMs>` listens on a free loopback port (printed on stdout)
// and forwards to 127.0.0.1:<port>, holding every chunk for <delayMs> in each direction.
import { connect, createServer } from 'node:net'

const [port, delayMs] = process.argv.slice(2).map(Number)
const pipeDelayed = (from, to) =>
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs))
const server = createServer((client) => {
  const upstream = connect(port, '127.0.0.1')
  for (const s of [client, upstream]) {
    s.on('error', () => {})
    s.on('close', () => (client.destroy(), upstream.destroy()))
  }
  pipeDelayed(client, upstream)
  pipeDelayed(upstream, client)
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
