package h2

import (
	"strconv"
	"unsafe"

	"golang.org/x/net/http2/hpack"

	"github.com/switchyard-dev/switchyard/parser"
)

// HeaderEncoder encodes the response header blocks of one connection (RFC 7541), with
// the dynamic table that is per connection (§2.2), into one reused buffer. It makes the
// choices hpack.Encoder makes (a field in a table is one index; a new one is indexed
// unless it is larger than the table; Huffman coding where it is shorter) and uses
// x/net's Huffman code.
//
// Why not hpack.Encoder itself, which this replaced: it finds a field through two maps
// keyed by strings, hashing every name and value up to four times per field, and it
// keeps the strings it is given, so a server had to hold a cache of stable copies of its
// response fields in front of it. On a loop serving small HTTP/2 responses that was
// about 9 % of the server's CPU (perf, h2-paced-20k). A response's fields are a few, and
// the table a server's responses fill holds a few dozen at most, so here a name is
// hashed once: the static names are found through an open-addressed table by that hash
// (one compare, rarely two), a field the dynamic table holds is found with one probe of
// a small memory of the newest entry per field hash, and only what that misses is a scan
// of the entries comparing their names' hashes before bytes. And the encoder copies what
// it keeps, so it takes views. BenchmarkHeaderEncoderResponse against
// BenchmarkXNetHeaderEncoderResponse measures the difference.
//
// Repeated responses are cheap: a field already in the static or dynamic table encodes
// as one index and costs no allocation. A field seen for the first time is added to the
// dynamic table, which allocates once; so values that change on every response should
// go through WriteVolatileFieldBytes, which never adds to the table.
type HeaderEncoder struct {
	buf     []byte
	lower   []byte // a name lowercased
	scratch []byte // a new entry's name and value, before they become one string

	// The dynamic table, a ring whose length is a power of two: ents[head] is the oldest
	// of n entries. added counts the entries ever added (mod 2^32), so the newest is
	// number added-1.
	ents    []hpackEntry
	head, n int
	added   uint32
	// recent remembers, per slot of a field's hpackFieldHash, the number of the newest
	// entry added with that hash. A response repeats the fields of the one before, so a
	// field in the table is found with one probe, not a scan: on a connection open for
	// minutes the table fills with the seconds' dates, and scanning them was most of
	// what a response's encoding cost on a loop whose caches had gone cold
	// (BenchmarkHeaderEncoderResponseFullTable).
	recent     [recentSlots]hpackRecent
	size       uint32 // of the entries, as §4.1 counts it
	maxSize    uint32 // the table's size now
	sizeUpdate bool   // the next field is preceded by a size update (§6.3)
}

// hpackEntry is a dynamic table entry, with its name's hpackNameHash; name and value
// share one allocation.
type hpackEntry struct {
	name, value string
	hash        uint32
}

func (e hpackEntry) size() uint32 { return uint32(len(e.name) + len(e.value) + 32) }

// hpackRecent is a slot of HeaderEncoder.recent: entry number num was added with field
// hash field. It is only a hint: an entry found through it is compared byte for byte.
type hpackRecent struct{ field, num uint32 }

const recentSlots = 16

// defaultTableSize is SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2) and the
// largest table this encoder uses whatever a peer allows, as hpack.Encoder: a server's
// responses repeat a few fields, so a larger table would hold more memory per connection
// for little.
const defaultTableSize = 4096

// NewHeaderEncoder returns an encoder with the default 4096-octet table.
func NewHeaderEncoder() *HeaderEncoder { return &HeaderEncoder{maxSize: defaultTableSize} }

// SetPeerMaxTableSize applies the peer's SETTINGS_HEADER_TABLE_SIZE: a table larger
// than v shrinks to v, announced at the start of the next block (RFC 7541 §4.2). It never
// grows back, as hpack.Encoder's does not: growing after a shrink before the next block
// would take two size updates in that block (§4.2), and x/net's decoder (Go's HTTP/2
// client) refuses the second while its table holds anything.
func (e *HeaderEncoder) SetPeerMaxTableSize(v uint32) {
	if v >= e.maxSize {
		return
	}
	e.maxSize, e.sizeUpdate = v, true
	e.evict(0)
}

// Reset starts a new header block, discarding the previous one.
func (e *HeaderEncoder) Reset() { e.buf = e.buf[:0] }

// WriteStatus encodes :status, which comes first in a response block
// (RFC 9113 §8.3.2). code must be 100..999.
func (e *HeaderEncoder) WriteStatus(code int) {
	e.WriteField(":status", statusText(code))
}

// WriteField encodes a field, indexing it in the dynamic table. The name is sent
// lowercase (RFC 9113 §8.2.1).
func (e *HeaderEncoder) WriteField(name, value string) {
	e.field(viewOf(name), viewOf(value), indexed)
}

// WriteFieldBytes is WriteField for views: name and value may be in buffers the caller
// reuses, as the encoder copies what it keeps.
func (e *HeaderEncoder) WriteFieldBytes(name, value []byte) { e.field(name, value, indexed) }

// WriteVolatileFieldBytes encodes a field whose value changes from one block to the next
// (content-length) as a literal without indexing (RFC 7541 §6.2.2) unless the tables
// already hold it: adding every value would push the fields that do repeat out of the
// table and allocate an entry per block. Its name is found in the static table, else in
// the dynamic one.
func (e *HeaderEncoder) WriteVolatileFieldBytes(name, value []byte) { e.field(name, value, volatile) }

// WriteFieldUnindexed encodes a field as a literal that is never indexed
// (RFC 7541 §6.2.3), by this hop or any after it: for secrets, it keeps the value out of
// compression contexts (RFC 7541 §7.1.3).
func (e *HeaderEncoder) WriteFieldUnindexed(name, value string) {
	e.field(viewOf(name), viewOf(value), neverIndexed)
}

// Block returns the encoded block, valid until the next Reset or write.
func (e *HeaderEncoder) Block() []byte { return e.buf }

// AppendHeaders appends the block as HEADERS (+ CONTINUATION) frames, see
// the package function AppendHeaders.
func (e *HeaderEncoder) AppendHeaders(dst []byte, streamID uint32, endStream bool, maxFrameSize uint32) []byte {
	return AppendHeaders(dst, streamID, e.buf, endStream, maxFrameSize)
}

// fieldMode is how field represents a field that the tables do not hold in full.
type fieldMode uint8

const (
	indexed      fieldMode = iota // a literal added to the dynamic table (§6.2.1)
	volatile                      // a literal without indexing (§6.2.2)
	neverIndexed                  // a literal never indexed (§6.2.3), looked up by name only
)

// field encodes one field (§6): an index if the tables hold it (a never-indexed field is
// looked up by name only), else a literal as mode says; an indexed one larger than the
// table goes without indexing.
func (e *HeaderEncoder) field(name, value []byte, mode fieldMode) {
	if e.sizeUpdate {
		e.sizeUpdate = false
		e.buf = appendHpackInt(e.buf, 0x20, 5, uint64(e.maxSize))
	}
	hash, upper := hpackNameHash(name)
	if upper {
		e.lower = parser.AppendLower(e.lower[:0], name)
		name = e.lower
	}
	nameOnly := mode == neverIndexed
	index, full := searchStatic(hash, name, value, nameOnly)
	var fieldHash uint32 // for recent and add; a never-indexed field needs neither
	if !full {
		var dyn uint64
		var dynFull bool
		if !nameOnly {
			fieldHash = hpackFieldHash(hash, value)
			dyn, dynFull = e.recentEntry(fieldHash, name, value)
		}
		// A volatile field with a static name is seldom in the dynamic table: the probe
		// of recent is all it gets, not a scan of the table per block.
		if !dynFull && (mode != volatile || index == 0) {
			dyn, dynFull = e.search(hash, name, value, nameOnly)
			if dynFull {
				e.remember(fieldHash, dyn)
			}
		}
		if dynFull || (index == 0 && dyn != 0) {
			index, full = dyn+uint64(len(hpackStatic)), dynFull
		}
	}
	switch entry := uint32(len(name) + len(value) + 32); {
	case full:
		e.buf = appendHpackInt(e.buf, 0x80, 7, index)
		return
	case mode == neverIndexed:
		e.buf = appendHpackInt(e.buf, 0x10, 4, index)
	case mode == volatile || entry > e.maxSize:
		e.buf = appendHpackInt(e.buf, 0x00, 4, index)
	default:
		e.buf = appendHpackInt(e.buf, 0x40, 6, index)
		e.add(hash, fieldHash, name, value)
	}
	if index == 0 {
		e.buf = appendHpackString(e.buf, name)
	}
	e.buf = appendHpackString(e.buf, value)
}

// recentEntry returns the dynamic index of name and value if recent remembers them
// (0 and false otherwise). The index is the newest such entry's:
// adding one writes its slot, so a slot that names an entry holding these bytes was
// written by the newest of them.
func (e *HeaderEncoder) recentEntry(fieldHash uint32, name, value []byte) (uint64, bool) {
	r := e.recent[fieldHash%recentSlots]
	k := e.added - r.num // the entry's index, if it is still in the table
	if r.field != fieldHash || k == 0 || k > uint32(e.n) {
		return 0, false
	}
	ent := &e.ents[(e.head+e.n-int(k))&(len(e.ents)-1)]
	if ent.value != string(value) || ent.name != string(name) {
		return 0, false
	}
	return uint64(k), true
}

// remember notes in recent that dynamic index k holds the field with fieldHash.
func (e *HeaderEncoder) remember(fieldHash uint32, k uint64) {
	e.recent[fieldHash%recentSlots] = hpackRecent{field: fieldHash, num: e.added - uint32(k)}
}

// search returns the dynamic index (1: newest) of name and value (full, unless nameOnly)
// or, failing that, of the newest entry with name; 0 if none. hash is name's.
func (e *HeaderEncoder) search(hash uint32, name, value []byte, nameOnly bool) (index uint64, full bool) {
	mask := len(e.ents) - 1
	for k := 1; k <= e.n; k++ {
		ent := &e.ents[(e.head+e.n-k)&mask]
		if ent.hash != hash || ent.name != string(name) {
			continue
		}
		if !nameOnly && ent.value == string(value) {
			return uint64(k), true
		}
		if index == 0 {
			index = uint64(k)
		}
	}
	return index, false
}

// add inserts a field as the newest entry, evicting the oldest to make room (§4.4); the
// caller has checked that it fits in the table.
func (e *HeaderEncoder) add(hash, fieldHash uint32, name, value []byte) {
	e.scratch = append(append(e.scratch[:0], name...), value...)
	both := string(e.scratch)
	ent := hpackEntry{name: both[:len(name)], value: both[len(name):], hash: hash}
	e.evict(ent.size())
	if e.n == len(e.ents) {
		grown := make([]hpackEntry, max(8, 2*len(e.ents))) // a power of two, for the masks
		for k := range e.n {
			grown[k] = e.ents[(e.head+k)&(len(e.ents)-1)]
		}
		e.ents, e.head = grown, 0
	}
	e.ents[(e.head+e.n)&(len(e.ents)-1)] = ent
	e.n++
	e.size += ent.size()
	e.added++
	e.remember(fieldHash, 1)
}

// evict drops the oldest entries until room more octets fit in the table.
func (e *HeaderEncoder) evict(room uint32) {
	for e.n > 0 && e.size+room > e.maxSize {
		old := &e.ents[e.head]
		e.size -= old.size()
		*old = hpackEntry{}
		e.head = (e.head + 1) & (len(e.ents) - 1)
		e.n--
	}
}

// appendHpackInt appends i with an n-bit prefix after the bits of first (§5.1).
func appendHpackInt(dst []byte, first byte, n uint, i uint64) []byte {
	limit := uint64(1)<<n - 1
	if i < limit {
		return append(dst, first|byte(i))
	}
	dst = append(dst, first|byte(limit))
	for i -= limit; i >= 128; i >>= 7 {
		dst = append(dst, byte(i&0x7f)|0x80)
	}
	return append(dst, byte(i))
}

// appendHpackString appends a string literal (§5.2), Huffman-coded if that is shorter.
func appendHpackString(dst, s []byte) []byte {
	str := stringView(s)
	if n := hpack.HuffmanEncodeLength(str); n < uint64(len(s)) {
		return hpack.AppendHuffmanString(appendHpackInt(dst, 0x80, 7, n), str)
	}
	return append(appendHpackInt(dst, 0, 7, uint64(len(s))), s...)
}

// viewOf is s as bytes, without a copy; nothing here writes to it.
func viewOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringView is b as a string, without a copy, for a call that only reads it.
func stringView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// statusTexts caches the decimal form of every valid status code so that
// encoding :status never formats a number.
var statusTexts [900]string

func init() {
	for i := range statusTexts {
		statusTexts[i] = strconv.Itoa(100 + i)
	}
}

func statusText(code int) string {
	if code >= 100 && code <= 999 {
		return statusTexts[code-100]
	}
	return strconv.Itoa(code)
}
