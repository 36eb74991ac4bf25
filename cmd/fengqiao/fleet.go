package main

import (
	"io/fs"
	"os"
	"path/filepath"

	"fengqiao/connectors/manifests"
	"fengqiao/tools/sim"
)

// fleet is a running sim.Fleet whose manifests are written into a folder.
type fleet struct {
	*sim.Fleet
	running *sim.Running
	// Vars are the manifest variables the apps' manifests name.
	Vars map[string]string
}

// startFleet generates and serves the apps cfg describes, and writes the manifest
// of each into dir as <name>.yaml — and the shipped manifests too when builtin is
// set — replacing the *.yaml there: the hub loads them from dir like any other.
func startFleet(cfg sim.FleetConfig, dir string, builtin bool) (*fleet, error) {
	f := &fleet{Fleet: sim.NewFleet(cfg)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{}
	if builtin {
		shipped, _ := fs.Glob(manifests.FS, "*.yaml")
		for _, name := range shipped {
			b, err := fs.ReadFile(manifests.FS, name)
			if err != nil {
				return nil, err
			}
			files[name] = b
		}
	}
	for _, a := range f.Apps {
		files[a.Name+".yaml"] = []byte(a.Manifest())
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	var err error
	if f.running, err = f.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	f.Vars = map[string]string{"FLEET_URL": f.running.URL, "FLEET_SECRET": f.Secret}
	return f, nil
}

// Close stops the apps.
func (f *fleet) Close() { f.running.Close() }
