package gateway

import (
	"net/http"
	"net/http/pprof"
	"strings"
	"time"
)

// pprofPrefix is where the Go runtime's profiles are served when Config.Pprof is on.
const pprofPrefix = "/debug/pprof/"

// pprofTimeout bounds a profiling request instead of RequestTimeout: a CPU
// profile or trace lasts as long as its ?seconds= asks (30 s by default).
const pprofTimeout = 2 * time.Minute

// pprofHandler serves net/http/pprof's handlers: the index and named profiles
// (heap, goroutine, allocs, block, mutex, threadcreate), cmdline, profile
// (CPU), symbol and trace. Only county operators and commanders reach it.
func (s *Server) pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pprofPrefix, pprof.Index)
	mux.HandleFunc(pprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(pprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc(pprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(pprofPrefix+"trace", pprof.Trace)
	return s.tokens.operatorsOnly("性能剖析", mux)
}

func (s *Server) isPprof(r *http.Request) bool {
	return s.cfg.Pprof && strings.HasPrefix(r.URL.Path, pprofPrefix)
}
