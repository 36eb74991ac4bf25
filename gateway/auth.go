package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"fengqiao"
)

// Tokens issues and verifies the bearer tokens of principals: HS256-signed JWTs
// carrying the principal's role and org unit.
type Tokens struct {
	key  []byte
	tree *fengqiao.OrgTree
}

// NewTokens returns the token authority signing with key for the units of tree.
func NewTokens(key []byte, tree *fengqiao.OrgTree) *Tokens { return &Tokens{key: key, tree: tree} }

type claims struct {
	Name string        `json:"name"`
	Role fengqiao.Role `json:"role"`
	Org  string        `json:"org"`
	jwt.RegisteredClaims
}

// Issue returns a token for p valid for ttl.
func (t *Tokens) Issue(p fengqiao.Principal, ttl time.Duration) (string, error) {
	if t.tree.Unit(p.OrgCode) == nil {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "组织单元编码不存在：%s", p.OrgCode)
	}
	if !p.Role.Valid() {
		return "", fengqiao.Errorf(fengqiao.EINVALID, "角色不存在：%q（可选：%s）", p.Role, roleNames())
	}
	now := time.Now()
	c := claims{Name: p.Name, Role: p.Role, Org: p.OrgCode, RegisteredClaims: jwt.RegisteredClaims{
		Subject: p.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), Issuer: "fengqiao",
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify returns the principal of a token, or EUNAUTHORIZED.
func (t *Tokens) Verify(token string) (*fengqiao.Principal, error) {
	p, _, err := t.verifyUntil(token)
	return p, err
}

// verifyUntil returns the principal of a token and when the token expires, or
// EUNAUTHORIZED.
func (t *Tokens) verifyUntil(token string) (*fengqiao.Principal, time.Time, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("fengqiao"), jwt.WithExpirationRequired())
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "身份令牌无效或已过期，请重新登录"), err)
	}
	if t.tree.Unit(c.Org) == nil {
		return nil, time.Time{}, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "身份令牌中的组织单元不存在：%s", c.Org)
	}
	if !c.Role.Valid() {
		return nil, time.Time{}, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "身份令牌中的角色无效：%q，请重新签发令牌", c.Role)
	}
	return &fengqiao.Principal{ID: c.Subject, Name: c.Name, Role: c.Role, OrgCode: c.Org}, c.ExpiresAt.Time, nil
}

func roleNames() string {
	var names []string
	for _, r := range fengqiao.Roles {
		names = append(names, string(r))
	}
	return strings.Join(names, "、")
}

// bearer returns the request's bearer token, and whether it sent an
// Authorization header at all.
func bearer(r *http.Request) (token string, sent bool) {
	h := r.Header.Get("Authorization")
	token, _ = strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(token), h != ""
}

// operator returns the principal of the request's token if it is a county-level
// operator or commander; otherwise EUNAUTHORIZED (no token, or a bad one) or
// EFORBIDDEN, naming what was asked for.
func (t *Tokens) operator(r *http.Request, what string) (*fengqiao.Principal, error) {
	token, _ := bearer(r)
	if token == "" {
		return nil, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "未提供身份令牌：查看%s须在请求头 Authorization 中携带县级运维员或指挥长的 Bearer 令牌", what)
	}
	p, err := t.Verify(token)
	if err != nil {
		return nil, err
	}
	if p.OrgCode != t.tree.Root().Code || p.Role != fengqiao.RoleOperator && p.Role != fengqiao.RoleCommander {
		return nil, fengqiao.Errorf(fengqiao.EFORBIDDEN, "%s仅限县级运维员或指挥长查看", what)
	}
	return p, nil
}

// operatorsOnly serves next to county-level operators and commanders only.
func (t *Tokens) operatorsOnly(what string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := t.operator(r, what); err != nil {
			graphQLError(w, statusOf(err), err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusOf is the HTTP status of an authentication error.
func statusOf(err error) int {
	if fengqiao.ErrorCode(err) == fengqiao.EFORBIDDEN {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// authenticate puts the principal of the request's bearer token into its context,
// or answers 401 in Chinese.
func (t *Tokens) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			graphQLError(w, http.StatusUnauthorized, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "未提供身份令牌：请在请求头 Authorization 中携带 Bearer 令牌"))
			return
		}
		p, err := t.Verify(strings.TrimSpace(token))
		if err != nil {
			graphQLError(w, http.StatusUnauthorized, err)
			return
		}
		p.Remote = r.RemoteAddr
		next.ServeHTTP(w, r.WithContext(fengqiao.WithPrincipal(r.Context(), p)))
	})
}
