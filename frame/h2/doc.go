// Package h2 is switchyard's HTTP/2 wire codec (RFC 9113, with HPACK from
// RFC 7541): frame decoding and validation, frame encoding, SETTINGS, the
// h2c HTTP2-Settings header, and request-header validation. It does no I/O
// and keeps no connection state beyond what framing itself needs (the open
// header block, in Decoder); stream states, flow-control windows and
// priorities belong to the server.
//
// Why not golang.org/x/net/http2's Framer: it reads from an io.Reader into its
// own buffer, copies every frame, and returns an interface holding a freshly
// allocated per-type struct (DataFrame, SettingsFrame, ...). On an event loop
// the bytes are already in the loop's buffer, so this package decodes in
// place: ReadFrame takes the caller's byte slice and returns one Frame value
// (header, decoded fixed fields and a payload view) with no allocation and no
// copy. BenchmarkReadFrameMixed against BenchmarkXNetFramerMixed (build tag
// xnetcmp, see xnet_bench_test.go) measures the difference.
//
// Encoders append to a caller's []byte, so a connection can batch all the
// frames one loop iteration produces into one write, and AppendDataHeader
// lets a DATA payload be written from its own buffer without copying.
//
// Views: every []byte returned by a Frame method aliases the buffer given to
// ReadFrame and is valid only until that buffer is reused or released.
// Callers that need the bytes later must copy them.
//
// Error model (as in x/net/http2): ConnectionError ends the connection with
// GOAWAY; StreamError ends one stream with RST_STREAM. Both carry the RFC 9113
// §7 error code. Type-switch on the value rather than errors.As on the hot
// path: errors.As makes its target escape.
package h2
