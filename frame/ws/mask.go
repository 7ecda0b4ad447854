package ws

import gws "github.com/gobwas/ws"

// Unmask XORs p in place with the masking key (RFC 6455 §5.3). pos is the
// payload offset of p[0] within its frame, so a payload arriving in pieces can
// be unmasked piece by piece; the return value is the pos of the next piece.
// Masking and unmasking are the same operation.
//
// It is gobwas/ws's Cipher, which works a 16-byte block at a time (SSE2/AVX2
// on amd64).
func Unmask(p []byte, key [4]byte, pos int) int {
	gws.Cipher(p, key, pos)
	return (pos + len(p)) & 3
}
