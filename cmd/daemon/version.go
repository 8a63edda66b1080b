package main

import "github.com/walletd/walletd/daemons/utxo"

// version is walletd's version as stamped at build time:
//
//	go build -ldflags "-X main.version=0.1.0-3-gabcdef" ./cmd/daemon
//
// (the Dockerfile's VERSION build argument). Empty, for an unstamped
// build, means the daemon's built-in version (utxo.Version). It is only
// read, never assigned, by the program.
var version string

// daemonVersion is walletd's version as the daemon reports it: getinfo's
// walletd_version, version_info, GET /spec and `walletd version`.
func daemonVersion() string {
	if version != "" {
		return version
	}
	return utxo.Version
}
