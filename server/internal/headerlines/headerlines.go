// Package headerlines reads the header blocks upgraders hand the server
// (server.Rejection.Header, the fields an Upgrader accepts with): "Name: value" lines, each
// ending in CRLF. HTTP/1.1 copies such a block onto the wire as it is; HTTP/2 and
// net/http need its fields one by one, and this is the one reader they share.
package headerlines

import "github.com/switchyard-dev/switchyard/parser"

// Each calls fn with the name and value of every line of block that has a colon, both
// without surrounding spaces and tabs (RFC 9110 §5.6.3); other lines are skipped. name and
// value are views into block.
func Each[T string | []byte](block T, fn func(name, value T)) {
	for len(block) > 0 {
		end := len(block)
		for i := 0; i+1 < len(block); i++ {
			if block[i] == '\r' && block[i+1] == '\n' {
				end = i
				break
			}
		}
		line := block[:end]
		for i := 0; i < len(line); i++ {
			if line[i] == ':' {
				fn(parser.TrimOWS(line[:i]), parser.TrimOWS(line[i+1:]))
				break
			}
		}
		block = block[min(end+2, len(block)):]
	}
}
