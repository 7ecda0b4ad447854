// Package parsertest holds real-world request heads shared by the parser's
// tests and benchmarks and by other modules (bench/peers) that compare
// against them. Treat the slices as read-only.
package parsertest

// Pico703 is the 703-byte request of picohttpparser's bench.c (h2o/picohttpparser),
// the usual yardstick for HTTP/1 parsers. Its User-Agent says "Intel Mac OS X
// 10.6"; copies that spell it "10_6_3" are two bytes longer.
var Pico703 = []byte("GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n" +
	"Host: www.kittyhell.com\r\n" +
	"User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n" +
	"Accept-Encoding: gzip,deflate\r\n" +
	"Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n" +
	"Keep-Alive: 115\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n" +
	"\r\n")

// ChromeWebSocket is the opening handshake Chrome sends for
// new WebSocket("ws://example.com:8000/chat") (RFC 6455 §4.1).
var ChromeWebSocket = []byte("GET /chat HTTP/1.1\r\n" +
	"Host: example.com:8000\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://example.com:8000\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n")

// CurlH2Upgrade is what `curl --http2 http://localhost:8080/` (curl 7.88.1)
// sends to ask for h2c (RFC 7540 §3.2).
var CurlH2Upgrade = []byte("GET / HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: curl/7.88.1\r\n" +
	"Accept: */*\r\n" +
	"Connection: Upgrade, HTTP2-Settings\r\n" +
	"Upgrade: h2c\r\n" +
	"HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n" +
	"\r\n")
