package sim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
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
	RetryAfter   int           `json:"retryAfter"`   // seconds, for throttled answers
	HangRate     float64       `json:"hangRate"`     // hold the request until the client gives up
	Down         bool          `json:"down"`         // answer 503 to everything

	// Answer faults strike after the request was handled: the work is done (a
	// dispatch made, a task created) but its acknowledgement is late or lost, so
	// a client that gives up or retries must not do the work twice.
	AckDelay time.Duration `json:"ackDelay"` // hold the answer this long (a client that gives up meanwhile gets none)
	DropRate float64       `json:"dropRate"` // handle the request, then close the connection without answering

	// Record faults damage what a page says, as real feeds do.
	DuplicateRate float64 `json:"duplicateRate"` // serve a record twice in its page
	StaleRate     float64 `json:"staleRate"`     // serve an older version of a record after it
	Shuffle       bool    `json:"shuffle"`       // records within a page in no order
	RenameFrom    string  `json:"renameFrom"`    // schema drift: this field…
	RenameTo      string  `json:"renameTo"`      // …goes by this name
}

// faultSwitch holds a simulator's current faults; they can change while it serves.
type faultSwitch struct {
	current  atomic.Pointer[Faults]
	requests atomic.Uint64
	records  atomic.Uint64
	answers  atomic.Uint64 // requests handled, for DropRate
}

// Set replaces the injected faults.
func (s *faultSwitch) Set(f Faults) { s.current.Store(&f) }

// Requests returns how many requests the simulator has received.
func (s *faultSwitch) Requests() uint64 { return s.requests.Load() }

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
		hit := func(rate float64) bool { return spread(n, rate) }
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
		case f.AckDelay > 0 || f.DropRate > 0:
			s.answerLate(w, r, next, f)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// answerLate handles the request in full, then holds its answer for AckDelay and
// drops it at DropRate, as a gateway or a slow acknowledgement does.
func (s *faultSwitch) answerLate(w http.ResponseWriter, r *http.Request, next http.Handler, f Faults) {
	held := &heldAnswer{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(held, r)
	if f.AckDelay > 0 {
		select {
		case <-time.After(f.AckDelay):
		case <-r.Context().Done():
			return // the client gave up: the work is done, the answer lost
		}
	}
	if spread(s.answers.Add(1), f.DropRate) {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the answer instead
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.WriteHeader(held.status)
	w.Write(held.body.Bytes())
}

// heldAnswer is a response kept back from the client.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header         { return a.header }
func (a *heldAnswer) WriteHeader(status int)      { a.status = status }
func (a *heldAnswer) Write(b []byte) (int, error) { return a.body.Write(b) }

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

// spread reports whether the nth event falls in a share rate spread evenly.
func spread(n uint64, rate float64) bool {
	return rate > 0 && int(float64(n)*rate) != int(float64(n-1)*rate)
}

// damage applies the record faults to a page: duplicates, older versions served
// after newer ones (older makes one), and shuffling.
func damage[T any](s *faultSwitch, page []T, older func(T) T) []T {
	f := s.Faults()
	if f.DuplicateRate == 0 && f.StaleRate == 0 && !f.Shuffle {
		return page
	}
	var out []T
	for _, it := range page {
		out = append(out, it)
		n := s.records.Add(1)
		if spread(n, f.DuplicateRate) {
			out = append(out, it)
		}
		if spread(n, f.StaleRate) && older != nil {
			out = append(out, older(it))
		}
	}
	if f.Shuffle {
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// drift renames a field in an encoded response, JSON ("name":) or XML (<name>).
func (s *faultSwitch) drift(body []byte) []byte {
	f := s.Faults()
	if f.RenameFrom == "" {
		return body
	}
	r := strings.NewReplacer(
		`"`+f.RenameFrom+`":`, `"`+f.RenameTo+`":`,
		"<"+f.RenameFrom+">", "<"+f.RenameTo+">", "</"+f.RenameFrom+">", "</"+f.RenameTo+">")
	return []byte(r.Replace(string(body)))
}

// writeJSON answers with v as JSON, drifted if the faults say so.
func (s *faultSwitch) writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(s.drift(b))
}
