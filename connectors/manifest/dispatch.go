package manifest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"fengqiao"
	"fengqiao/connectors"
)

// Dispatching is the connector of a manifest with a write side: it syncs as
// Connector does and receives work through the manifest's actions.
type Dispatching struct {
	*Connector
}

var _ fengqiao.Dispatcher = (*Dispatching)(nil)

// Open returns the connector a parsed manifest describes: a fengqiao.Dispatcher
// (a *Dispatching) when it declares actions.dispatch, else a *Connector.
func Open(m *Manifest, log *slog.Logger) fengqiao.Connector {
	c := New(m, log)
	if d, ok := c.Dispatcher(); ok {
		return d
	}
	return c
}

// Dispatcher returns the connector as a fengqiao.Dispatcher, if its manifest
// declares actions.dispatch.
func (c *Connector) Dispatcher() (*Dispatching, bool) {
	if c.action(ActionDispatch) == nil {
		return nil, false
	}
	return &Dispatching{c}, true
}

// action is a compiled action by name, nil when not declared.
func (c *Connector) action(name string) *compiledAction {
	if c.m.compiled == nil {
		return nil
	}
	return c.m.compiled.actions[name]
}

// actionFor is the action a dispatch goes by: supervise for 督办 when declared,
// else dispatch.
func (c *Connector) actionFor(d fengqiao.Dispatch) *compiledAction {
	if d.OrderKind == fengqiao.OrderSupervise {
		if a := c.action(ActionSupervise); a != nil {
			return a
		}
	}
	return c.action(ActionDispatch)
}

// Dispatch implements fengqiao.Dispatcher: the action's request is sent through
// the connector's own client (auth, rate limit, retries, breaker) and its answer
// judged by the manifest. With idempotencyHeader, the dispatch's Key goes in it
// and the client may repeat the request; without, the request is sent once per
// call, and a declared lookup asks the app for the work first (on every call, so
// that a retry after a lost answer, even after a restart, finds it): found, it is
// not sent again and the receipt says Duplicate. Without either, a retry after a
// lost answer can make the work twice (connector check warns).
//
// Errors: EUNAVAILABLE when the app cannot answer now or its answer cannot be
// judged (transport errors, timeouts, 429, 5xx, refused credentials, an open
// breaker) — the caller retries; EINVALID when the app refused the work (success
// false and not a duplicate), with the app's reason, or when the manifest cannot
// build the request for this dispatch.
func (d *Dispatching) Dispatch(ctx context.Context, dp fengqiao.Dispatch) (fengqiao.Receipt, error) {
	c := d.Connector
	a := c.actionFor(dp)
	vars := dispatchVars(dp)
	what := actionTitles[a.name]
	if a.idem == "" && a.lookup != nil {
		found, ref, err := c.runLookup(ctx, a, vars)
		if err != nil {
			return fengqiao.Receipt{}, err
		}
		if found {
			return fengqiao.Receipt{Ref: ref, Duplicate: true}, nil
		}
	}
	out, err := a.req.render(vars)
	if err != nil {
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s的%s请求无法生成：%v", c.m.Title, what, err)
	}
	if a.idem != "" {
		out.header.Set(a.idem, dp.Key)
	}
	resp, err := c.exchange(ctx, out, a.idem == "")
	if err != nil {
		return fengqiao.Receipt{}, err
	}
	v, err := a.judge(vars, resp)
	if err != nil {
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s对%s的答复无法判断是否受理（HTTP %d）：%v", c.m.Title, what, resp.Status, err)
	}
	if !v.Accepted {
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s拒绝了%s：%s", c.m.Title, what, v.Reason)
	}
	if v.RefError != nil && c.log != nil {
		c.log.Warn("dispatch accepted without a readable ref", "connector", c.m.Name, "key", dp.Key, "err", v.RefError)
	}
	return fengqiao.Receipt{Ref: v.Ref, Duplicate: v.Duplicate}, nil
}

// runLookup asks the app whether it has the dispatch's work already.
func (c *Connector) runLookup(ctx context.Context, a *compiledAction, vars map[string]any) (bool, string, error) {
	out, err := a.lookup.req.render(vars)
	if err != nil {
		return false, "", fengqiao.Errorf(fengqiao.EINVALID, "%s的查重请求（lookup）无法生成：%v", c.m.Title, err)
	}
	resp, err := c.exchange(ctx, out, false) // a read: retried as any
	if err != nil {
		return false, "", err
	}
	found, ref, err := a.lookup.judge(vars, resp)
	switch {
	case err != nil && !found:
		return false, "", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s的查重答复无法判断（HTTP %d）：%v", c.m.Title, resp.Status, err)
	case err != nil && c.log != nil:
		c.log.Warn("lookup found the work without a readable ref", "connector", c.m.Name, "err", err)
	}
	return found, ref, nil
}

// exchange sends a rendered request through the connector's client: auth (a
// bearer token refreshed once after a 401), rate limit, retries unless once, and
// the breaker. A 401 that persists is EUNAVAILABLE: the credentials need fixing, and
// the work waits for them.
func (c *Connector) exchange(ctx context.Context, out *outgoing, once bool) (*connectors.Response, error) {
	call := connectors.Call{Method: out.method, URL: c.m.BaseURL + out.uri, Header: out.header.Clone()}
	if out.body != nil {
		call.Body = json.RawMessage(out.body)
	}
	c.authorize(&call, out.uri, out.body, time.Now())
	for attempt := 0; ; attempt++ {
		if c.m.Auth.Bearer != nil {
			token, err := c.tokens.Token(ctx)
			if err != nil {
				return nil, err
			}
			call.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Upstream.Exchange(ctx, call, once)
		if err != nil {
			return nil, err
		}
		if resp.Status == http.StatusUnauthorized {
			if c.m.Auth.Bearer != nil && attempt == 0 {
				c.tokens.Invalidate()
				continue
			}
			return nil, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s拒绝了接入凭据（HTTP 401），请检查 auth 配置", c.m.Title)
		}
		return resp, nil
	}
}

// Outgoing is a request an action would send, for connector check's dry run:
// the auth headers applied, their secrets masked.
type Outgoing struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte // nil: none
}

// PreviewAction renders the request action name would send for d, without
// sending it; nil when the manifest does not declare the action.
func (c *Connector) PreviewAction(name string, d fengqiao.Dispatch) (*Outgoing, error) {
	a := c.action(name)
	if a == nil {
		return nil, nil
	}
	out, err := a.req.render(dispatchVars(d))
	if err != nil {
		return nil, err
	}
	if a.idem != "" {
		out.header.Set(a.idem, d.Key)
	}
	return c.preview(out), nil
}

// PreviewLookup renders the lookup of action name for d; nil when it has none.
func (c *Connector) PreviewLookup(name string, d fengqiao.Dispatch) (*Outgoing, error) {
	a := c.action(name)
	if a == nil || a.lookup == nil {
		return nil, nil
	}
	out, err := a.lookup.req.render(dispatchVars(d))
	if err != nil {
		return nil, err
	}
	return c.preview(out), nil
}

var secretHeader = regexp.MustCompile(`(?i)key|token|secret|auth|sign|passw|pwd|cookie`)

// preview applies the auth to a rendered request and masks its secrets.
func (c *Connector) preview(out *outgoing) *Outgoing {
	call := connectors.Call{Method: out.method, URL: c.m.BaseURL + out.uri, Header: out.header.Clone()}
	c.authorize(&call, out.uri, out.body, time.Now())
	if c.m.Auth.Bearer != nil {
		call.Header.Set("Authorization", "Bearer （发送时向 "+c.m.Auth.Bearer.TokenURL+" 取令牌）")
	}
	if out.body != nil && call.Header.Get("Content-Type") == "" {
		call.Header.Set("Content-Type", "application/json")
	}
	secret := map[string]bool{}
	switch a := c.m.Auth; {
	case a.APIKey != nil:
		secret[http.CanonicalHeaderKey(a.APIKey.Header)] = true
	case a.HMAC != nil:
		secret[http.CanonicalHeaderKey(a.HMAC.KeyHeader)] = true
		secret[http.CanonicalHeaderKey(a.HMAC.SignatureHeader)] = true
	}
	for name, values := range call.Header {
		if name == "Authorization" && c.m.Auth.Bearer != nil {
			continue
		}
		if secret[name] || secretHeader.MatchString(name) {
			for i, v := range values {
				values[i] = mask(v)
			}
		}
	}
	return &Outgoing{Method: call.Method, URL: call.URL, Header: call.Header, Body: out.body}
}

// mask keeps the first two characters of a secret of eight or more.
func mask(s string) string {
	if utf8.RuneCountInString(s) < 8 {
		return "****"
	}
	return string([]rune(s)[:2]) + "****"
}

// JudgeAction reads an answer to action name for d as Dispatch would.
func (c *Connector) JudgeAction(name string, d fengqiao.Dispatch, resp *connectors.Response) (Verdict, error) {
	a := c.action(name)
	if a == nil {
		return Verdict{}, fmt.Errorf("清单没有声明 actions.%s", name)
	}
	return a.judge(dispatchVars(d), resp)
}

// JudgeLookup reads an answer to the lookup of action name for d.
func (c *Connector) JudgeLookup(name string, d fengqiao.Dispatch, resp *connectors.Response) (found bool, ref string, err error) {
	a := c.action(name)
	if a == nil || a.lookup == nil {
		return false, "", fmt.Errorf("清单没有声明 actions.%s.lookup", name)
	}
	return a.lookup.judge(dispatchVars(d), resp)
}
