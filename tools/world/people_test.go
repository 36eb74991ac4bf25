package world

import (
	"math/rand/v2"
	"testing"
)

func TestPermutationDealsEachNumberOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 7, 1000, 5760, 65536, 100001} {
		g := &generator{rnd: rand.New(rand.NewPCG(uint64(n), 1))}
		p := g.newPermutation(n)
		seen := make([]bool, n)
		for range n {
			x, ok := p.next()
			if !ok || seen[x] {
				t.Fatalf("n=%d: %d dealt twice", n, x)
			}
			seen[x] = true
		}
		if _, ok := p.next(); ok {
			t.Fatalf("n=%d: more than n dealt", n)
		}
	}
}
