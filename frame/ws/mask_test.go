package ws

import (
	"math/rand/v2"
	"testing"
)

func refMask(p []byte, key [4]byte, pos int) {
	for i := range p {
		p[i] ^= key[(pos+i)%4]
	}
}

func TestUnmaskPiecesMatchReference(t *testing.T) {
	// RFC 6455 §5.3: octet i of the payload is XORed with key[i mod 4],
	// whichever way the payload is split into pieces.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 3, 4, 15, 16, 17, 31, 64, 100, 1000, 4099} {
		orig := make([]byte, size)
		for i := range orig {
			orig[i] = byte(rng.Uint32())
		}
		want := append([]byte(nil), orig...)
		refMask(want, testKey, 0)

		for trial := 0; trial < 20; trial++ {
			got := append([]byte(nil), orig...)
			pos, off := 0, 0
			for off < size {
				n := 1 + rng.IntN(size-off)
				if got := Unmask(got[off:off+n], testKey, pos); got != (pos+n)%4 {
					t.Fatalf("next pos %d, want %d", got, (pos+n)%4)
				}
				pos = (pos + n) % 4
				off += n
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("size %d trial %d: byte %d = %x, want %x", size, trial, i, got[i], want[i])
				}
			}
		}
	}
}

func TestUnmaskIsInvolution(t *testing.T) {
	// §5.3: the same operation masks and unmasks.
	p := []byte("the quick brown fox jumps over the lazy dog")
	Unmask(p, testKey, 1)
	Unmask(p, testKey, 1)
	if string(p) != "the quick brown fox jumps over the lazy dog" {
		t.Fatalf("got %q", p)
	}
}
