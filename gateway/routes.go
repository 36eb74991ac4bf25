package gateway

import (
	"net/http"
	"slices"
	"strings"

	"fengqiao"
)

// route is an authenticated route the hub adds for some roles (HandleRoles).
type route struct {
	pattern, what string
	roles         []fengqiao.Role
	handler       http.Handler
}

// HandleRoles serves handler at pattern to callers whose bearer token names one
// of roles, with the caller's principal in the request's context
// (fengqiao.PrincipalFrom); others are answered 401 (no token, or a bad one) or
// 403, in Chinese, naming what. Scoping to the caller's subtree is the handler's.
// Call it before Handler.
func (s *Server) HandleRoles(pattern, what string, roles []fengqiao.Role, handler http.Handler) {
	s.routes = append(s.routes, route{pattern, what, slices.Clone(roles), handler})
}

// roleTitles are the roles' Chinese names, for refusals.
var roleTitles = map[fengqiao.Role]string{
	fengqiao.RoleCommander: "指挥长", fengqiao.RoleAnalyst: "研判分析员", fengqiao.RoleGridStaff: "网格员",
	fengqiao.RoleAuditor: "审计员", fengqiao.RoleOperator: "运维员",
}

// withRoles serves next to the principals of roles only.
func (t *Tokens) withRoles(what string, roles []fengqiao.Role, next http.Handler) http.Handler {
	var titles []string
	for _, r := range roles {
		titles = append(titles, roleTitles[r])
	}
	allowed := strings.Join(titles, "、")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := bearer(r)
		if token == "" {
			WriteError(w, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "未提供身份令牌：%s须在请求头 Authorization 中携带%s的 Bearer 令牌", what, allowed))
			return
		}
		p, err := t.Verify(token)
		if err != nil {
			WriteError(w, err)
			return
		}
		if !slices.Contains(roles, p.Role) {
			WriteError(w, fengqiao.Errorf(fengqiao.EFORBIDDEN, "%s仅限%s使用", what, allowed))
			return
		}
		p.Remote = r.RemoteAddr
		next.ServeHTTP(w, r.WithContext(fengqiao.WithPrincipal(r.Context(), p)))
	})
}

// errorStatus is the HTTP status of each application error code.
var errorStatus = map[string]int{
	fengqiao.EINVALID: http.StatusBadRequest, fengqiao.ENOTFOUND: http.StatusNotFound,
	fengqiao.EUNAUTHORIZED: http.StatusUnauthorized, fengqiao.EFORBIDDEN: http.StatusForbidden,
	fengqiao.ELIMIT: http.StatusBadRequest, fengqiao.EUNAVAILABLE: http.StatusServiceUnavailable,
	fengqiao.EINTERNAL: http.StatusInternalServerError,
}

// WriteError answers err as the gateway answers every refusal: JSON in the
// GraphQL error shape ({"errors": [{"message", "extensions": {"code"}}]}), the
// message in Chinese, with the HTTP status of its code: 400 invalid or limit, 401,
// 403, 404 not found, 503 unavailable, 500 otherwise.
func WriteError(w http.ResponseWriter, err error) {
	status, ok := errorStatus[fengqiao.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	graphQLError(w, status, err)
}
