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

// Projects simulates the key-project registry (重点项目库): a client-credentials
// token endpoint, page/size paging and an inclusive gxsjStart cursor in Unix
// seconds, records inside {"code":200,"data":{"records":[…]}}.
type Projects struct {
	faultSwitch
	ClientID, ClientSecret string
	projects               *ledger[*world.Project]
	mu                     sync.Mutex
	tokens                 map[string]bool
}

// NewProjects serves the world's projects.
func NewProjects(w *world.World, clientID, clientSecret string) *Projects {
	return &Projects{ClientID: clientID, ClientSecret: clientSecret, tokens: map[string]bool{},
		projects: newLedger(w.Projects, func(p *world.Project) (time.Time, string) { return time.Unix(p.GXSJ, 0), p.XMBM })}
}

// Put adds or updates a project.
func (p *Projects) Put(pr *world.Project) { p.projects.put(pr) }

// Len returns how many projects the registry holds.
func (p *Projects) Len() int { return p.projects.len() }

// Handler returns the registry's HTTP API.
func (p *Projects) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/token", p.token)
	mux.HandleFunc("GET /xmk/api/projects", p.list)
	return p.wrap(mux)
}

func (p *Projects) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("client_id") != p.ClientID || r.PostForm.Get("client_secret") != p.ClientSecret {
		p.writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	p.mu.Lock()
	p.tokens[tok] = true
	p.mu.Unlock()
	p.writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3600})
}

func (p *Projects) list(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	ok := p.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	p.mu.Unlock()
	if !ok {
		p.writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "msg": "未授权"})
		return
	}
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	since, _ := strconv.ParseInt(q.Get("gxsjStart"), 10, 64)
	if page < 1 || size < 1 || size > 200 {
		p.writeJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "msg": "分页参数错误"})
		return
	}
	records, total := p.projects.since(time.Unix(since, 0), (page-1)*size, size)
	records = damage(&p.faultSwitch, records, func(pr *world.Project) *world.Project {
		if pr.Malformed != "" {
			return pr // a broken record's older version is as broken
		}
		old := *pr
		old.JD, old.GXSJ = max(0, pr.JD-10), pr.GXSJ-3600
		return &old
	})
	if records == nil {
		records = []*world.Project{}
	}
	p.writeJSON(w, http.StatusOK, map[string]any{"code": 200, "data": map[string]any{"total": total, "records": records}})
}
