package connectors

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"

	"fengqiao"
)

// TokenSource gets and caches bearer tokens from an OAuth2 token endpoint with the
// client-credentials grant, refreshing them before they expire.
type TokenSource struct {
	Upstream     *Upstream
	URL          string
	ClientID     string
	ClientSecret string

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token returns a valid access token, fetching a new one when needed.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.expires) {
		return s.token, nil
	}
	body, err := s.Upstream.Do(ctx, Call{Method: http.MethodPost, URL: s.URL, Form: url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {s.ClientSecret},
	}})
	if err != nil {
		return "", err
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s的令牌接口返回无法识别", s.Upstream.title)
	}
	// Refresh at 90% of the lifetime, so a token never expires in flight.
	s.token, s.expires = t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn)*time.Second*9/10)
	return s.token, nil
}

// Invalidate drops the cached token after the upstream refused it.
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}

// Do sends a call with the bearer token; if the upstream refuses the token (it
// expired early or was revoked), it fetches a new one and tries once more.
func (s *TokenSource) Do(ctx context.Context, c Call) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		token, err := s.Token(ctx)
		if err != nil {
			return nil, err
		}
		h := c.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Authorization", "Bearer "+token)
		call := c
		call.Header = h
		body, err := s.Upstream.Do(ctx, call)
		if fengqiao.ErrorCode(err) == fengqiao.EUNAUTHORIZED && attempt == 0 {
			s.Invalidate()
			continue
		}
		return body, err
	}
}
