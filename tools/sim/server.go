package sim

import (
	"net"
	"net/http"
)

// Running is a simulator listening on loopback.
type Running struct {
	URL string
	srv *http.Server
}

// Start serves h on addr ("127.0.0.1:0" picks a free port).
func Start(addr string, h http.Handler) (*Running, error) {
	return serve(addr, &http.Server{Handler: h})
}

// serve runs srv on addr.
func serve(addr string, srv *http.Server) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &Running{URL: "http://" + ln.Addr().String(), srv: srv}
	go r.srv.Serve(ln)
	return r, nil
}

// Close stops the simulator, cutting open connections.
func (r *Running) Close() error { return r.srv.Close() }
