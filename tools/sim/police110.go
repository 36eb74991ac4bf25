package sim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"fengqiao/tools/world"
)

// Police110 simulates the police platform's 110 incident feed (110警情): an OAuth2
// client-credentials token endpoint with short-lived tokens, and a change feed of
// every incident (not only disputes) numbered by a sequence.
type Police110 struct {
	faultSwitch
	ClientID, ClientSecret string
	// TokenTTL is how long an access token lives. Default 10 minutes.
	TokenTTL time.Duration

	incidents *feed[*world.PoliceIncident] // Seq is the position in the feed
	mu        sync.Mutex
	tokens    map[string]time.Time
}

// NewPolice110 serves the world's incidents in update order.
func NewPolice110(w *world.World, clientID, clientSecret string) *Police110 {
	p := &Police110{ClientID: clientID, ClientSecret: clientSecret, TokenTTL: 10 * time.Minute,
		incidents: newFeed(func(i *world.PoliceIncident) string { return i.JQBH }), tokens: map[string]time.Time{}}
	for _, i := range inUpdateOrder(w.Police, func(i *world.PoliceIncident) (time.Time, string) { return i.Updated, i.JQBH }) {
		p.Put(i)
	}
	return p
}

// Put appends a new version of an incident to the feed.
func (p *Police110) Put(i *world.PoliceIncident) {
	p.incidents.put(func(pos int) *world.PoliceIncident {
		v := *i
		v.Seq = int64(pos)
		return &v
	})
}

// Len returns how many incidents the platform holds.
func (p *Police110) Len() int { return p.incidents.len() }

// Handler returns the platform's HTTP API.
func (p *Police110) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", p.token)
	mux.Handle("GET /api/v1/jq/changes", p.bearer(http.HandlerFunc(p.changes)))
	mux.Handle("GET /api/v1/jq/{jqbh}", p.bearer(http.HandlerFunc(p.detail)))
	return p.wrap(mux)
}

// RevokeTokens makes every issued token invalid, as a platform restart does.
func (p *Police110) RevokeTokens() {
	p.mu.Lock()
	clear(p.tokens)
	p.mu.Unlock()
}

func (p *Police110) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != p.ClientID || r.PostForm.Get("client_secret") != p.ClientSecret {
		p.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	p.mu.Lock()
	p.tokens[tok] = time.Now().Add(p.TokenTTL)
	p.mu.Unlock()
	p.writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(p.TokenTTL.Seconds())})
}

func (p *Police110) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		expires, ok := p.tokens[tok]
		p.mu.Unlock()
		if !ok || time.Now().After(expires) {
			p.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Police110) changes(w http.ResponseWriter, r *http.Request) {
	after, err1 := strconv.ParseInt(r.URL.Query().Get("afterSeq"), 10, 64)
	limit, err2 := strconv.Atoi(r.URL.Query().Get("limit"))
	if err1 != nil || err2 != nil || after < 0 || limit < 1 || limit > 500 {
		p.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "参数错误"})
		return
	}
	items, last := p.incidents.after(int(after), limit)
	items = damage(&p.faultSwitch, items, func(i *world.PoliceIncident) *world.PoliceIncident {
		if i.Malformed != "" {
			return i // a broken record's older version is as broken
		}
		old := *i // an older version, replayed under the same number
		old.ZT, old.CJJG = "处置中", ""
		old.Updated = i.Updated.Add(-time.Hour)
		old.GXSJ = old.Updated.In(world.CST).Format(time.RFC3339)
		return &old
	})
	if items == nil {
		items = []*world.PoliceIncident{}
	}
	p.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "items": items, "lastSeq": last})
}

func (p *Police110) detail(w http.ResponseWriter, r *http.Request) {
	i, ok := p.incidents.get(r.PathValue("jqbh"))
	if !ok {
		p.writeJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "警情不存在"})
		return
	}
	p.writeJSON(w, http.StatusOK, map[string]any{"code": 0, "item": i})
}
