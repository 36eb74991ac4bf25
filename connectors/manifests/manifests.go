// Package manifests holds the connector manifests that ship with fengqiao: the
// upstreams connected without Go code. The hub loads them (or a folder of its own)
// at start; see docs/connectors.md.
package manifests

import "embed"

// FS holds the *.yaml manifests of this folder.
//
//go:embed *.yaml
var FS embed.FS

// Examples holds examples/*.yaml: manifests that show a feature (the write side
// of messageboard.yaml) for an app the hub does not load by itself.
//
//go:embed examples/*.yaml
var Examples embed.FS
