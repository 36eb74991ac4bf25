package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Faults are the failures a simulator injects into its API responses. The zero
// value injects none. Rates are shares of requests, from 0 to 1, spread evenly
// (a rate of 0.5 fails every other request) so that tests are repeatable.
type Faults struct {
	Latency      time.Duration `json:"latency"`      // added to every response
	ErrorRate    float64       `json:"errorRate"`    // answer 500
	ThrottleRate float64       `json:"throttleRate"` // answer 429 with Retry-After
	RetryAfter   int           `json:"retryAfter"`   // seconds, for throttled answers (default 1)
	HangRate     float64       `json:"hangRate"`     // hold the request until the client gives up
	Down         bool          `json:"down"`         // answer 503 to everything
}

// faultSwitch holds a simulator's current faults; they can change while it serves.
type faultSwitch struct {
	current  atomic.Pointer[Faults]
	requests atomic.Uint64
}

// Set replaces the injected faults.
func (s *faultSwitch) Set(f Faults) { s.current.Store(&f) }

// Faults returns the injected faults.
func (s *faultSwitch) Faults() Faults {
	if f := s.current.Load(); f != nil {
		return *f
	}
	return Faults{}
}

// wrap injects the current faults before next answers, and serves the fault switch
// itself at /_sim/faults (GET to read, PUT a JSON Faults to change).
func (s *faultSwitch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_sim/faults" {
			s.serveSwitch(w, r)
			return
		}
		f := s.Faults()
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		n := s.requests.Add(1)
		hit := func(rate float64) bool { return rate > 0 && int(float64(n)*rate) != int(float64(n-1)*rate) }
		switch {
		case f.Down:
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		case hit(f.ErrorRate):
			http.Error(w, "internal server error", http.StatusInternalServerError)
		case hit(f.ThrottleRate):
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		case hit(f.HangRate):
			<-r.Context().Done()
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *faultSwitch) serveSwitch(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		var f Faults
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.Set(f)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.Faults())
}
