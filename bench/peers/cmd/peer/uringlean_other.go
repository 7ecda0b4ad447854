//go:build !linux

package main

import "errors"

// serveUringLean is the io_uring experiment (uringlean.go): Linux only.
func serveUringLean(string) error { return errors.New("uring-lean: io_uring is Linux only") }

func serveUringHybrid(string) error { return serveUringLean("") }
func serveUringRecv(string) error   { return serveUringLean("") }
