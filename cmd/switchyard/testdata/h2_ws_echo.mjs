// WebSocket over HTTP/2 (RFC 8441) with Node's http2 module, for TestRFC8441NodeHTTP2:
// node h2_ws_echo.mjs host:port tls|h2c
//
// Connects over TLS (ALPN h2, the self-signed certificate not verified) or cleartext with
// prior knowledge, waits for the server's SETTINGS to say enableConnectProtocol (RFC 8441
// §3), opens a WebSocket on /echo with extended CONNECT (:protocol websocket, RFC 8441 §4),
// requires :status 200, sends masked text and binary frames (RFC 6455 §5.3) and requires
// them echoed unmasked, closes with 1000 and requires the server's 1000 and the stream's end,
// then a GET / on the same session, then prints the refusal of an extended CONNECT to "/".
// Prints one line per step; exits non-zero on failure.
import http2 from 'node:http2';
import crypto from 'node:crypto';

const [addr, mode] = process.argv.slice(2);
const scheme = mode === 'tls' ? 'https' : 'http';
const fail = (msg) => { console.error('FAIL: ' + msg); process.exit(1); };
setTimeout(() => fail('timed out'), 15000).unref();

// A masked client frame (RFC 6455 §5.2).
function wsFrame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
    : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(n);
  for (let i = 0; i < n; i++) masked[i] = payload[i] ^ key[i % 4];
  return Buffer.concat([head, key, masked]);
}

// Splits whole server frames off buf; a server frame must not be masked (RFC 6455 §5.1).
function wsParse(buf, out) {
  for (;;) {
    if (buf.length < 2) return buf;
    if (buf[1] & 0x80) fail('the server sent a masked frame');
    let n = buf[1] & 0x7f, off = 2;
    if (n === 126) { if (buf.length < 4) return buf; n = buf.readUInt16BE(2); off = 4; }
    else if (n === 127) { if (buf.length < 10) return buf; n = Number(buf.readBigUInt64BE(2)); off = 10; }
    if (buf.length < off + n) return buf;
    out.push({ fin: !!(buf[0] & 0x80), op: buf[0] & 0x0f, payload: buf.subarray(off, off + n) });
    buf = buf.subarray(off + n);
  }
}

const session = http2.connect(`${scheme}://${addr}`, { rejectUnauthorized: false });
session.on('error', (e) => fail('session: ' + e.message));

const settings = await new Promise((resolve) => session.once('remoteSettings', resolve));
console.log('node', process.version, 'alpn', session.alpnProtocol, 'enableConnectProtocol', settings.enableConnectProtocol);
if (settings.enableConnectProtocol !== true) fail('the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)');
console.log('enable connect protocol ok');

const stream = session.request({
  ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': '/echo',
  ':authority': addr, 'sec-websocket-version': '13',
}, { endStream: false });
stream.on('error', (e) => fail('stream: ' + e.message));
const headers = await new Promise((resolve) => stream.once('response', resolve));
if (headers[':status'] !== 200) fail('extended CONNECT got :status ' + headers[':status']);
console.log('extended connect ok: stream', stream.id, 'status 200');

const frames = [];
const waiters = [];
let pending = Buffer.alloc(0);
let ended = false;
stream.on('data', (chunk) => {
  pending = wsParse(Buffer.concat([pending, chunk]), frames);
  while (frames.length && waiters.length) waiters.shift()(frames.shift());
});
const streamEnd = new Promise((resolve) => stream.once('end', () => { ended = true; resolve(); }));
const next = () => new Promise((resolve) => frames.length ? resolve(frames.shift()) : waiters.push(resolve));

const text = Buffer.from('héllo from node over an HTTP/2 stream ✓');
const bin = Buffer.from(Array.from({ length: 1024 }, (_, i) => i & 0xff));
stream.write(wsFrame(0x1, text));
stream.write(wsFrame(0x2, bin));
for (const [op, want, name] of [[0x1, text, 'text'], [0x2, bin, 'binary']]) {
  const f = await next();
  if (!f.fin || f.op !== op || !f.payload.equals(want)) fail(`${name} echo: op ${f.op}, ${f.payload.length} bytes`);
  console.log(name + ' echo ok');
}

stream.write(wsFrame(0x8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')])));
const c = await next();
if (c.op !== 0x8 || c.payload.length < 2 || c.payload.readUInt16BE(0) !== 1000) fail('close: op ' + c.op);
stream.end();
await streamEnd;
console.log('close', c.payload.readUInt16BE(0), 'END_STREAM', ended);
console.log('clean close ok');

const get = session.request({ ':method': 'GET', ':path': '/', ':scheme': scheme, ':authority': addr });
const getHeaders = await new Promise((resolve) => get.once('response', resolve));
get.resume();
await new Promise((resolve) => get.once('end', resolve));
if (getHeaders[':status'] !== 200) fail('GET / after the WebSocket: ' + getHeaders[':status']);
console.log('connection still serves GET / ok');

// Extended CONNECT to a path without WebSocket: refused, the body says why.
const refused = session.request({
  ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': '/',
  ':authority': addr, 'sec-websocket-version': '13',
}, { endStream: false });
const refusedHeaders = await new Promise((resolve) => refused.once('response', resolve));
let refusedBody = '';
refused.setEncoding('utf8');
refused.on('data', (s) => { refusedBody += s; });
await new Promise((resolve) => refused.once('end', resolve));
console.log('refused connect to / status', refusedHeaders[':status'], 'body', JSON.stringify(refusedBody));
session.close();
