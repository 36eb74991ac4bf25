package main

import (
	"runtime/debug"
	"testing"
)

// The hub's soft memory limit is the default plus what the caller holds beside
// it, unless GOMEMLIMIT set one, which stays.
func TestLimitMemoryLeavesGOMEMLIMITAlone(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	if got := limitMemory(1 << 20); got != defaultMemoryLimit+1<<20 || debug.SetMemoryLimit(-1) != got {
		t.Fatalf("limit %d, want %d", got, defaultMemoryLimit+1<<20)
	}
	t.Setenv("GOMEMLIMIT", "3GiB")
	debug.SetMemoryLimit(3 << 30) // as the runtime read it at start
	if got := limitMemory(1 << 20); got != 3<<30 || debug.SetMemoryLimit(-1) != 3<<30 {
		t.Fatalf("limit %d with GOMEMLIMIT=3GiB", got)
	}
}
