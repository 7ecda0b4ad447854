package bench

// pace is one client loop's part of an open-loop schedule: rate messages a second spread
// evenly over conns connections, numbered 0..conns-1 across all the client's loops.
// Connection j sends its m-th message at
//
//	start + (m·conns + j) / rate seconds
//
// so the client as a whole sends one message every 1/rate s, each connection one every
// conns/rate s, and no two connections at once, whichever loop each connection is on.
// A loop owns some of the indices (ids, ascending) and walks its own sends in time order:
// its k-th send goes to ids[k mod n] in round m = k div n. Nothing here reads a clock, so
// the schedule is tested without timing.
type pace struct {
	start int64 // ns on the client's clock
	rate  int64 // messages a second over all connections
	conns int64 // connections over all loops
	ids   []int // this loop's connection indices, ascending
	k     int64 // sends this loop has made
}

// next is the slot in ids of the loop's next send and when it is due (ns). The product
// below stays far inside int64: 2^63 ns is 292 years of sends.
func (p *pace) next() (slot int, due int64) {
	n := int64(len(p.ids))
	m, i := p.k/n, p.k%n
	seq := m*p.conns + int64(p.ids[i])
	return int(i), p.start + seq*1e9/p.rate
}

// advance moves on to the loop's next send.
func (p *pace) advance() { p.k++ }

// splitIDs numbers the connections 0..len(loopOf)-1 and gives each loop its indices,
// ascending: loopOf[j] is the loop connection j is on.
func splitIDs(loopOf []int, loops int) [][]int {
	ids := make([][]int, loops)
	for j, l := range loopOf {
		ids[l] = append(ids[l], j)
	}
	return ids
}
