// Package topics keeps named rooms of WebSocket connections on one node: subscribe,
// unsubscribe, publish (optionally to everyone but the sender) and a presence count.
// Each room is a websocket.Hub, made on the first subscription and dropped with the
// last, so a publish is framed once per node and delivered with one task per event
// loop, under each member's send budget and overflow policy.
//
// An Engine decides how publishes leave the node and how other nodes' publishes reach
// it: Local (the default) keeps rooms within the process; package natstopics spans
// nodes over NATS.
package topics
