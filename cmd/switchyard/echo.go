package main

import "github.com/switchyard-dev/switchyard/server"

// echoUpgraders are the protocols /echo switches to.
func echoUpgraders() []server.Upgrader { return nil }
