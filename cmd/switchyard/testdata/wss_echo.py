"""wss echo with the Python websockets library (Debian's python3-websockets), for
TestServeTLSPythonWebsockets: connects to the URL given as the only argument without
verifying the self-signed certificate, sends a text and a binary message, checks that
each comes back unchanged, closes with 1000 and checks the server's close frame.
Prints one line per step; exits non-zero on any failure."""

import asyncio
import ssl
import sys

import websockets


async def main(url):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    async with websockets.connect(url, ssl=ctx, open_timeout=10, close_timeout=5) as ws:
        tls = ws.transport.get_extra_info("ssl_object")
        print("websockets", websockets.__version__, "tls", tls.version(), "alpn", tls.selected_alpn_protocol(),
              "extensions", [e.name for e in ws.extensions])
        text = "héllo over wss ✓"
        await ws.send(text)
        got = await asyncio.wait_for(ws.recv(), 10)
        if got != text:
            sys.exit("text echo: got %r, want %r" % (got, text))
        print("text echo ok")
        data = bytes(range(256)) * 4
        await ws.send(data)
        got = await asyncio.wait_for(ws.recv(), 10)
        if got != data:
            sys.exit("binary echo: got %d bytes %r..., want %d bytes" % (len(got), got[:16], len(data)))
        print("binary echo ok")
        await ws.close(code=1000, reason="done")
        print("close", ws.close_code, repr(ws.close_reason))
        if ws.close_code != 1000:
            sys.exit("close code %r, want 1000" % ws.close_code)
    print("clean close ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
