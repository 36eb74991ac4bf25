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
	now := time.Now()
	c := claims{Name: p.Name, Role: p.Role, Org: p.OrgCode, RegisteredClaims: jwt.RegisteredClaims{
		Subject: p.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), Issuer: "fengqiao",
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify returns the principal of a token, or EUNAUTHORIZED.
func (t *Tokens) Verify(token string) (*fengqiao.Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("fengqiao"), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "身份令牌无效或已过期，请重新登录"), err)
	}
	if t.tree.Unit(c.Org) == nil {
		return nil, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "身份令牌中的组织单元不存在：%s", c.Org)
	}
	return &fengqiao.Principal{ID: c.Subject, Name: c.Name, Role: c.Role, OrgCode: c.Org}, nil
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
