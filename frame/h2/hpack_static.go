package h2

import "encoding/binary"

// hpackStatic is HPACK's static table (RFC 7541 Appendix A); entry i is index i+1.
var hpackStatic = [...]struct{ name, value string }{
	{":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"},
	{":path", "/index.html"}, {":scheme", "http"}, {":scheme", "https"}, {":status", "200"},
	{":status", "204"}, {":status", "206"}, {":status", "304"}, {":status", "400"},
	{":status", "404"}, {":status", "500"}, {"accept-charset", ""}, {"accept-encoding", "gzip, deflate"},
	{"accept-language", ""}, {"accept-ranges", ""}, {"accept", ""}, {"access-control-allow-origin", ""},
	{"age", ""}, {"allow", ""}, {"authorization", ""}, {"cache-control", ""},
	{"content-disposition", ""}, {"content-encoding", ""}, {"content-language", ""}, {"content-length", ""},
	{"content-location", ""}, {"content-range", ""}, {"content-type", ""}, {"cookie", ""},
	{"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""},
	{"from", ""}, {"host", ""}, {"if-match", ""}, {"if-modified-since", ""},
	{"if-none-match", ""}, {"if-range", ""}, {"if-unmodified-since", ""}, {"last-modified", ""},
	{"link", ""}, {"location", ""}, {"max-forwards", ""}, {"proxy-authenticate", ""},
	{"proxy-authorization", ""}, {"range", ""}, {"referer", ""}, {"refresh", ""},
	{"retry-after", ""}, {"server", ""}, {"set-cookie", ""}, {"strict-transport-security", ""},
	{"transfer-encoding", ""}, {"user-agent", ""}, {"vary", ""}, {"via", ""},
	{"www-authenticate", ""},
}

// hpackStaticName is a distinct name of the static table: its entries are consecutive,
// first to last.
type hpackStaticName struct {
	name        string
	first, last uint8
}

// hpackStaticNames are the static table's names, found through hpackStaticSlots: an open
// addressed table of 1 + their index by hpackNameHash, at most half full, so that a lookup
// compares one name, rarely two.
var (
	hpackStaticNames []hpackStaticName
	hpackStaticSlots [128]uint8
)

func init() {
	for i, e := range hpackStatic {
		if n := len(hpackStaticNames); n > 0 && hpackStaticNames[n-1].name == e.name {
			hpackStaticNames[n-1].last = uint8(i + 1)
			continue
		}
		hpackStaticNames = append(hpackStaticNames, hpackStaticName{e.name, uint8(i + 1), uint8(i + 1)})
		h, _ := hpackNameHash([]byte(e.name))
		slot := h % uint32(len(hpackStaticSlots))
		for hpackStaticSlots[slot] != 0 {
			slot = (slot + 1) % uint32(len(hpackStaticSlots))
		}
		hpackStaticSlots[slot] = uint8(len(hpackStaticNames))
	}
}

// hpackNameHash hashes name as if lowercase, and says whether it has upper case.
func hpackNameHash(name []byte) (h uint32, upper bool) {
	h = uint32(len(name))
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		h = h*31 + uint32(c)
	}
	return h, upper
}

// hpackFieldHash mixes a name's hpackNameHash with a fingerprint of the value: its length
// and its first and last eight bytes, a constant cost whatever the value's length (hashing
// every byte, tried first, took a quarter of a response's encoding, the date's 29 bytes
// most of it). Values that differ only in between collide, which costs a compare, never a
// wrong index.
func hpackFieldHash(nameHash uint32, value []byte) uint32 {
	var first, last uint64
	if len(value) >= 8 {
		first = binary.LittleEndian.Uint64(value)
		last = binary.LittleEndian.Uint64(value[len(value)-8:])
	} else {
		for i, c := range value {
			first |= uint64(c) << (8 * i)
		}
	}
	const golden = 0x9e3779b97f4a7c15
	h := (first*golden ^ last ^ uint64(len(value))) * golden
	return uint32(h>>32) ^ nameHash
}

// searchStatic returns the static index of name and value (full, unless nameOnly) or,
// failing that, of the last entry with name, as hpack.Encoder picks it; 0 if none. name
// is lowercase, and hash its hpackNameHash.
func searchStatic(hash uint32, name, value []byte, nameOnly bool) (index uint64, full bool) {
	for slot := hash % uint32(len(hpackStaticSlots)); hpackStaticSlots[slot] != 0; slot = (slot + 1) % uint32(len(hpackStaticSlots)) {
		n := &hpackStaticNames[hpackStaticSlots[slot]-1]
		if n.name != string(name) {
			continue
		}
		for i := n.first; i <= n.last && !nameOnly; i++ {
			if hpackStatic[i-1].value == string(value) {
				return uint64(i), true
			}
		}
		return uint64(n.last), false
	}
	return 0, false
}
