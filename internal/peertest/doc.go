// Package peertest holds bluemoon's integration tests against real third-party servers: Debian's
// Dovecot submission service checking XOAUTH2 tokens by introspection at the npm oidc-provider
// OAuth server. .ci/peers/start installs and starts them on 127.0.0.1; the tests skip unless
// BLUEMOON_PEERS=1. See docs/peers.md.
//
// The package has no code of its own besides this comment: everything is in its _test.go files.
package peertest
