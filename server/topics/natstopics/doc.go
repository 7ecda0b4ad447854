// Package natstopics is a topics.Engine over NATS: rooms of the same name on many
// switchyard nodes are one room. Each node keeps one NATS connection and one publishing
// goroutine, so a node's messages keep their order (NATS keeps order per connection);
// event loops hand publishes to that goroutine through a bounded queue and never wait
// for NATS. A message goes over NATS once per node, behind a small binary header
// (header.go) whose per-node sequence numbers let a receiver count what a NATS outage
// lost.
package natstopics
