package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"fengqiao"
)

// Close codes of the graphql-transport-ws protocol.
const (
	closeForbidden   = 4403 // the token was refused, or has expired
	closeInitTimeout = 4408 // no connection_init in time
)

// errTokenExpired is the cause of a subscription context ended by its token's expiry.
var errTokenExpired = errors.New("token expired")

// wsState is one websocket connection's state, shared by the websocket
// implementation (which accepts the connection) and the transport's InitFunc
// (which authenticates it), through the request context.
type wsState struct {
	remote    string // the client's address, for the audit log
	mu        sync.Mutex
	conn      *wsConn
	initTimer *time.Timer
	inited    bool
	expiry    context.Context // ends, with errTokenExpired, when the token expires
	cancel    context.CancelFunc
}

type wsStateKey struct{}

func wsStateFrom(ctx context.Context) *wsState {
	st, _ := ctx.Value(wsStateKey{}).(*wsState)
	return st
}

// initialised records that the connection has sent connection_init.
func (st *wsState) initialised() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.inited = true
	if st.initTimer != nil {
		st.initTimer.Stop()
	}
}

// expired reports whether the connection's token has expired.
func (st *wsState) expired() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.expiry != nil && context.Cause(st.expiry) == errTokenExpired
}

// release stops the connection's timers, when its handler returns.
func (st *wsState) release() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.initTimer != nil {
		st.initTimer.Stop()
	}
	if st.cancel != nil {
		st.cancel()
	}
}

// initWebsocket authenticates a websocket by the token in its connection_init
// payload. The connection's context ends when the token expires: gqlgen then ends
// its subscriptions and closes it, with code 4403 (wsConn puts it in). A refused
// token closes it at once with 4403 and the reason.
func (s *Server) initWebsocket(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	st := wsStateFrom(ctx)
	if st != nil {
		st.initialised()
	}
	token, _ := strings.CutPrefix(payload.Authorization(), "Bearer ")
	p, exp, err := s.tokens.verifyUntil(strings.TrimSpace(token))
	if err != nil {
		return refuseWebsocket(ctx, err)
	}
	if st != nil {
		p.Remote = st.remote
	}
	ctx = fengqiao.WithPrincipal(ctx, p)
	if st != nil {
		expiry, cancel := context.WithDeadlineCause(ctx, exp, errTokenExpired)
		st.mu.Lock()
		st.expiry, st.cancel = expiry, cancel
		st.mu.Unlock()
		ctx = expiry
	}
	return ctx, nil, nil
}

func refuseWebsocket(ctx context.Context, err error) (context.Context, *transport.InitPayload, error) {
	msg := fengqiao.ErrorMessage(err)
	ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
	ctx = transport.AppendCloseReason(ctx, msg)
	return ctx, nil, errors.New(msg)
}

// wsImplementation accepts websockets with coder/websocket, as gqlgen does, and
// closes those that send no connection_init within initTimeout (4408).
type wsImplementation struct{ initTimeout time.Duration }

func (i wsImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := transport.CoderWebsocketImplementation{}.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	st := wsStateFrom(r.Context())
	if st == nil {
		st = &wsState{}
	}
	c := &wsConn{WebsocketConn: conn, state: st}
	st.mu.Lock()
	st.conn = c
	if !st.inited {
		st.initTimer = time.AfterFunc(i.initTimeout, func() {
			st.mu.Lock()
			inited := st.inited
			st.mu.Unlock()
			if !inited {
				c.WriteClose(closeInitTimeout, "连接建立后"+i.initTimeout.String()+"内未发送 connection_init，连接已关闭")
			}
		})
	}
	st.mu.Unlock()
	return c, nil
}

// wsConn is a websocket connection that closes with 4403 and a Chinese reason once
// its token has expired, whatever gqlgen closes it with.
type wsConn struct {
	transport.WebsocketConn
	state *wsState
}

func (c *wsConn) WriteClose(code int, reason string) error {
	if c.state.expired() {
		code, reason = closeForbidden, "身份令牌已过期，订阅已结束，请重新登录后再订阅"
	}
	return c.WebsocketConn.WriteClose(code, closeReason(reason))
}

// closeReason cuts a close reason to the 123 bytes a close frame holds, at a
// character boundary.
func closeReason(s string) string {
	const limit = 123
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func (c *wsConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *wsConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
