"""WebSocket over HTTP/2 (RFC 8441) with the Python h2 library (Debian's python3-h2), for
TestRFC8441PythonH2: connects to host:port given as the first argument, over TLS with ALPN h2
when the second argument is "tls" (the self-signed certificate is not verified), or over
cleartext with prior knowledge (RFC 9113 §3.3) when it is "h2c". Then:

  - waits for the server's SETTINGS and requires SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 8441 §3);
  - opens two WebSockets on streams 1 and 3 of the same connection with extended CONNECT
    (:method CONNECT, :protocol websocket, :scheme, :path /echo, :authority,
    sec-websocket-version 13; RFC 8441 §4-5), the second offering permessage-deflate
    (RFC 7692; compressed echoes are inflated), and requires :status 200 on each;
  - sends masked frames (RFC 6455 §5.3: a client masks every frame) as DATA on each stream,
    interleaved: a text and a binary message, a ping; requires each echoed unmasked and the pong;
  - closes the first WebSocket with 1000 and requires the server's close frame (1000) and the
    stream's END_STREAM (RFC 8441 §5: the stream's end stands for the TCP FIN);
  - requires the HTTP/2 connection still to serve the second WebSocket and a GET / afterwards;
  - sends extended CONNECT to "/" (a route without WebSocket) and prints the refusal.

Prints one line per step; exits non-zero on any failure."""

import os
import socket
import ssl
import struct
import sys
import zlib

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

TIMEOUT = 10


def ws_frame(opcode, payload, fin=True):
    """A masked client frame (RFC 6455 §5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def ws_parse(buf):
    """Splits whole server frames off buf: returns ([(fin, opcode, rsv1, payload)], rest). A
    server frame must not be masked (RFC 6455 §5.1)."""
    frames = []
    while len(buf) >= 2:
        b0, b1 = buf[0], buf[1]
        if b1 & 0x80:
            sys.exit("the server sent a masked frame (RFC 6455 §5.1 forbids it)")
        n, off = b1 & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, off = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < off + n:
            break
        frames.append((bool(b0 & 0x80), b0 & 0x0F, bool(b0 & 0x40), bytes(buf[off:off + n])))
        buf = buf[off + n:]
    return frames, buf


class Client:
    def __init__(self, addr, mode):
        host, port = addr.rsplit(":", 1)
        self.authority = addr
        raw = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        if mode == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
            alpn = self.sock.selected_alpn_protocol()
            print("tls", self.sock.version(), "alpn", alpn)
            if alpn != "h2":
                sys.exit("ALPN chose %r, not h2" % alpn)
            self.scheme = "https"
        else:
            self.sock = raw
            self.scheme = "http"
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.ws_buf = {}      # stream id -> unparsed WebSocket bytes
        self.ws_frames = {}   # stream id -> parsed frames not yet taken
        self.responses = {}   # stream id -> response headers
        self.bodies = {}      # stream id -> body bytes (non-WebSocket streams)
        self.ended = set()    # streams the server ended with END_STREAM
        self.reset = {}       # stream id -> RST_STREAM error code
        self.remote_settings = None
        self.websockets = set()
        self.deflate = {}     # stream id -> (no context takeover, decompressor) once negotiated
        self.compressed = 0   # echoes that came compressed (RSV1, RFC 7692 §6)

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self):
        data = self.sock.recv(65536)
        if not data:
            sys.exit("the server closed the connection")
        for ev in self.conn.receive_data(data):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.remote_settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
            elif isinstance(ev, h2.events.ResponseReceived):
                self.responses[ev.stream_id] = {k.decode(): v.decode() for k, v in ev.headers}
                if self.responses[ev.stream_id].get(":status") != "200":
                    self.websockets.discard(ev.stream_id)  # a refusal's body is not WebSocket frames
            elif isinstance(ev, h2.events.DataReceived):
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if ev.stream_id in self.websockets:
                    frames, rest = ws_parse(self.ws_buf.get(ev.stream_id, b"") + ev.data)
                    self.ws_buf[ev.stream_id] = rest
                    self.ws_frames.setdefault(ev.stream_id, []).extend(frames)
                else:
                    self.bodies[ev.stream_id] = self.bodies.get(ev.stream_id, b"") + ev.data
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                self.reset[ev.stream_id] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                sys.exit("the server sent GOAWAY %s %r" % (ev.error_code, ev.additional_data))
        self.flush()

    def wait(self, cond, what):
        while not cond():
            try:
                self.pump()
            except socket.timeout:
                sys.exit("timed out waiting for " + what)

    def connect_ws(self, path, extensions=None):
        sid = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", self.scheme),
            (":path", path), (":authority", self.authority), ("sec-websocket-version", "13"),
            ("user-agent", "python-h2/" + h2.__version__),
        ]
        if extensions:
            headers.append(("sec-websocket-extensions", extensions))
        self.conn.send_headers(sid, headers)
        self.websockets.add(sid)
        self.flush()
        self.wait(lambda: sid in self.responses or sid in self.reset, "the response to CONNECT " + path)
        ext = self.responses.get(sid, {}).get("sec-websocket-extensions", "")
        if "permessage-deflate" in ext:
            self.deflate[sid] = ("server_no_context_takeover" in ext, zlib.decompressobj(-15))
        return sid

    def send_ws(self, sid, opcode, payload):
        self.conn.send_data(sid, ws_frame(opcode, payload))
        self.flush()

    def next_frame(self, sid, what):
        """The stream's next frame as (fin, opcode, payload), inflated if it came compressed."""
        self.wait(lambda: self.ws_frames.get(sid), what)
        fin, op, rsv1, payload = self.ws_frames[sid].pop(0)
        if rsv1:
            if sid not in self.deflate:
                sys.exit("stream %d: RSV1 set without permessage-deflate negotiated (RFC 6455 §5.2)" % sid)
            no_takeover, d = self.deflate[sid]
            if no_takeover:
                d = zlib.decompressobj(-15)
            payload = d.decompress(payload + b"\x00\x00\xff\xff")  # RFC 7692 §7.2.2
            self.compressed += 1
        return fin, op, payload


def main(addr, mode):
    c = Client(addr, mode)
    c.wait(lambda: c.remote_settings is not None, "the server's SETTINGS")
    ecp = c.remote_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL, 0)
    print("python-h2", h2.__version__, "server SETTINGS", sorted(c.remote_settings.items()))
    if ecp != 1:
        sys.exit("SETTINGS_ENABLE_CONNECT_PROTOCOL is %r, want 1 (RFC 8441 §3)" % ecp)
    print("enable connect protocol ok")

    a = c.connect_ws("/echo")
    b = c.connect_ws("/echo", "permessage-deflate; client_max_window_bits")
    for sid in (a, b):
        status = c.responses.get(sid, {}).get(":status")
        if status != "200":
            sys.exit("stream %d: extended CONNECT got %r (reset %r), want :status 200" % (sid, c.responses.get(sid), c.reset.get(sid)))
    print("extended connect ok: streams", a, b, "status 200")

    text = "héllo over an HTTP/2 stream ✓".encode()
    data = bytes(range(256)) * 4
    c.send_ws(a, 0x1, text)
    c.send_ws(b, 0x2, data)
    c.send_ws(a, 0x2, data)
    c.send_ws(b, 0x1, text)
    for sid, want in ((a, [(0x1, text), (0x2, data)]), (b, [(0x2, data), (0x1, text)])):
        for op, payload in want:
            fin, gop, got = c.next_frame(sid, "an echo on stream %d" % sid)
            if (fin, gop, got) != (True, op, payload):
                sys.exit("stream %d: got frame fin=%s op=%d %r..., want op=%d %r..." % (sid, fin, gop, got[:16], op, payload[:16]))
    print("text echo ok", "binary echo ok", "interleaved on two streams ok")
    ext = c.responses[b].get("sec-websocket-extensions")
    print("stream", b, "deflate", "negotiated: " + ext if ext else "not negotiated", "compressed echoes", c.compressed)

    c.send_ws(a, 0x9, b"are you there")
    fin, op, got = c.next_frame(a, "a pong")
    if (op, got) != (0xA, b"are you there"):
        sys.exit("ping: got op=%d %r, want a pong with the ping's payload" % (op, got))
    print("ping pong ok")

    c.send_ws(a, 0x8, struct.pack("!H", 1000) + b"done")
    fin, op, got = c.next_frame(a, "the server's close frame")
    if op != 0x8 or len(got) < 2 or struct.unpack("!H", got[:2])[0] != 1000:
        sys.exit("close: got op=%d %r, want a close frame with 1000" % (op, got))
    c.wait(lambda: a in c.ended or a in c.reset, "the end of stream %d" % a)
    # RFC 9113 §8.1: after a complete response a server may reset the stream with NO_ERROR
    # to stop the rest of the request; any other reset, or none of END_STREAM, is not clean.
    if a not in c.ended or c.reset.get(a, 0) != 0:
        sys.exit("stream %d: END_STREAM %s, reset %r after the close handshake; want END_STREAM (RFC 8441 §5)" % (a, a in c.ended, c.reset.get(a)))
    try:
        c.conn.end_stream(a)  # our half, unless the library already counts the stream closed
        c.flush()
    except h2.exceptions.StreamClosedError:
        pass
    print("close", struct.unpack("!H", got[:2])[0], repr(got[2:].decode()), "END_STREAM")
    print("clean close ok")

    c.send_ws(b, 0x1, b"still here")
    fin, op, got = c.next_frame(b, "the echo on the second stream after the first closed")
    if got != b"still here":
        sys.exit("stream %d after close: got %r" % (b, got))
    c.send_ws(b, 0x8, struct.pack("!H", 1000))
    c.next_frame(b, "the second close frame")
    print("second websocket ok after the first closed")

    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "GET"), (":scheme", c.scheme), (":path", "/"), (":authority", c.authority)], end_stream=True)
    c.flush()
    c.wait(lambda: sid in c.ended or sid in c.reset, "the GET / response")
    if c.responses.get(sid, {}).get(":status") != "200":
        sys.exit("GET / on the same connection: %r" % c.responses.get(sid))
    print("connection still serves GET / ok")

    r = c.connect_ws("/")
    status = c.responses.get(r, {}).get(":status")
    c.wait(lambda: r in c.ended or r in c.reset, "the end of the refused CONNECT")
    print("refused connect to / status", status, "body", repr(c.bodies.get(r, b"").decode(errors="replace")))
    c.conn.close_connection()
    c.flush()
    c.sock.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
