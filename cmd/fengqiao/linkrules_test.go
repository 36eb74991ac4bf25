package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fengqiao/chains"
)

// The config's linkRules file is the chains' rules; a broken one stops the hub
// at start with the reason.
func TestHubLinkRulesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "links.yaml")
	text := strings.Replace(string(chains.DefaultRules()), `version: "2026.11-1"`, `version: "county-1"`, 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := OpenHub(Config{Data: filepath.Join(dir, "a"), Addr: "127.0.0.1:0", LinkRules: path}, log)
	if err != nil {
		t.Fatal(err)
	}
	st := hub.Chains.RulesStatus()
	hub.Close()
	if st.Version != "county-1" || st.File != path {
		t.Fatalf("rules in force: %+v", st)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(text, "confidence: 1\n", "confidence: 3\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if hub, err := OpenHub(Config{Data: filepath.Join(dir, "b"), Addr: "127.0.0.1:0", LinkRules: path}, log); err == nil {
		hub.Close()
		t.Fatal("a hub started with a broken link rules file")
	} else if !strings.Contains(err.Error(), "串联规则有误") || !strings.Contains(err.Error(), "confidence") {
		t.Fatalf("error: %v", err)
	}
}
