// Package parser reads HTTP/1.1 request heads (RFC 9112) and chunked bodies
// straight out of the caller's byte slice.
//
// It is the first thing every connection of switchyard runs: the server hands
// it gnet's inbound buffer, and the parser answers with views into that
// buffer, the number of bytes the head used, ErrIncomplete, ErrPreface (the
// client spoke HTTP/2 with prior knowledge) or an *Error that carries the
// status code and a human reason to send back before closing.
//
// Why our own parser instead of net/http or fasthttp: both copy the head into
// their own objects and neither is strict in the ways an upgrade server must
// be (request smuggling hinges on Content-Length/Transfer-Encoding, bare CR
// and obs-fold handling). The package is strict by default, allocates nothing
// per request, and remembers how far it has scanned so a head trickling in a
// byte at a time costs linear, not quadratic, work. BenchmarkParse and
// bench/peers prove the speed; TestParseAllocs proves the zero allocations.
//
// Every []byte handed out (Request fields, Header names and values, chunk
// data) is a view into the caller's buffer and is valid only until that buffer
// is reused or mutated. Copy what you need to keep.
package parser
