package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fengqiao"
)

// httpTransport serves GraphQL over GET and POST like gqlgen's transports, but
// answers each kind of malformed request with its own status and a Chinese message
// in the GraphQL error shape, and logs a bounded excerpt of what was sent:
//
//	413 the body is larger than MaxBodyBytes
//	415 a POST whose Content-Type is not application/json
//	400 a body that is not JSON, nests too deeply, is an array (a batch), or is not
//	    {"query": string, "operationName": string, "variables": object}; a
//	    document or variables refused before it runs: syntax, validation, limits
//	405 a GET of anything but a query
//	200 an operation that ran, with or without errors
//
// (GraphQL over HTTP: docs/schema.md "Errors" has the whole policy.)
type httpTransport struct {
	cfg Config
	log *slog.Logger
}

var _ graphql.Transport = httpTransport{}

func (t httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodPost || r.Method == http.MethodGet)
}

// badRequest is a request refused before GraphQL sees it.
type badRequest struct {
	status  int
	code    string
	message string
}

func (e *badRequest) Error() string { return e.message }

func refused(status int, code, format string, args ...any) *badRequest {
	return &badRequest{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// excerptBytes is how much of a refused body is logged.
const excerptBytes = 200

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	params, body, bad := t.params(r)
	if bad != nil {
		t.log.WarnContext(ctx, "graphql request refused", "status", bad.status, "reason", bad.message, "remote", r.RemoteAddr,
			"bytes", len(body), "excerpt", excerpt(body, excerptBytes))
		graphQLError(w, bad.status, fengqiao.Errorf(bad.code, "%s", bad.message))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	if ctx.Err() != nil {
		t.timedOut(w, ctx)
		return
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	switch op := oc.Operation.Operation; {
	case op == ast.Subscription:
		graphQLError(w, http.StatusBadRequest, fengqiao.Errorf(fengqiao.EINVALID, "订阅须通过 WebSocket（graphql-transport-ws 协议）建立"))
		return
	case r.Method == http.MethodGet && op != ast.Query:
		w.Header().Set("Allow", http.MethodPost)
		graphQLError(w, http.StatusMethodNotAllowed, fengqiao.Errorf(fengqiao.EINVALID, "GET 请求只能执行查询（query），其他操作请用 POST"))
		return
	}
	if ctx.Err() != nil {
		t.timedOut(w, ctx)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, http.StatusOK, responses(ctx))
}

// timedOut answers a request whose time ran out before its operation ran.
func (t httpTransport) timedOut(w http.ResponseWriter, ctx context.Context) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		graphQLError(w, http.StatusServiceUnavailable, fengqiao.Errorf(fengqiao.ELIMIT, "%s", timeoutMessage(t.cfg.RequestTimeout)))
	}
}

// params reads the GraphQL request from the URL (GET) or the body (POST), and
// returns the body read, for the log.
func (t httpTransport) params(r *http.Request) (*graphql.RawParams, []byte, *badRequest) {
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, []byte(r.URL.RawQuery), refused(http.StatusBadRequest, fengqiao.EINVALID, "URL 查询参数无法解析")
		}
		p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
		for name, into := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
			if v := q.Get(name); v != "" {
				what := "参数 " + name
				if bad := decodeObject([]byte(v), into, what, func() *badRequest { return scanVariables(t.cfg, []byte(v), what) }); bad != nil {
					return nil, []byte(v), bad
				}
			}
		}
		return p, nil, nil
	}

	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || media != "application/json" {
		return nil, nil, refused(http.StatusUnsupportedMediaType, fengqiao.EINVALID,
			"请求体须为 JSON：Content-Type 应为 application/json，收到 %q", r.Header.Get("Content-Type"))
	}
	if r.ContentLength > t.cfg.MaxBodyBytes {
		return nil, nil, tooLarge(t.cfg.MaxBodyBytes)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return nil, body, tooLarge(t.cfg.MaxBodyBytes)
		}
		return nil, body, refused(http.StatusBadRequest, fengqiao.EINVALID, "请求体读取失败")
	}
	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
	}
	if bad := decodeObject(body, &req, "请求体", func() *badRequest { return scanBody(t.cfg, body, "请求体") }); bad != nil {
		return nil, body, bad
	}
	return &graphql.RawParams{Query: req.Query, OperationName: req.OperationName, Variables: req.Variables, Extensions: req.Extensions}, body, nil
}

func tooLarge(limit int64) *badRequest {
	return refused(http.StatusRequestEntityTooLarge, fengqiao.ELIMIT, "请求体超过上限%d字节，请缩小查询或变量", limit)
}

// decodeObject decodes a JSON object that scan has passed into v, numbers as
// json.Number (as gqlgen expects them), naming what, the part of the request it
// is, in its refusals.
func decodeObject(b []byte, v any, what string, scan func() *badRequest) *badRequest {
	if bad := scan(); bad != nil {
		return bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s中的 %s 类型不对：query 与 operationName 须为字符串，variables 与 extensions 须为对象", what, typeErr.Field)
		}
		if errors.As(err, &typeErr) {
			return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s须为 JSON 对象", what)
		}
		return notJSON(what)
	}
	return nil
}

// excerpt returns the first n bytes of b as text, cut at a character boundary.
func excerpt(b []byte, n int) string {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "?")
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strings.ToValidUTF8(string(b[:cut]), "?") + "…"
}

// writeResponse writes a GraphQL response as JSON.
func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		graphQLError(w, http.StatusInternalServerError, fengqiao.Errorf(fengqiao.EINTERNAL, "系统内部错误：响应无法编码"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// refuseMethod answers any method /graphql does not serve.
type refuseMethod struct{}

func (refuseMethod) Supports(*http.Request) bool { return true }

func (refuseMethod) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	graphQLError(w, http.StatusMethodNotAllowed, fengqiao.Errorf(fengqiao.EINVALID, "不支持 %s 请求：GraphQL 请用 POST（或只读查询用 GET）", r.Method))
}

// errorCap keeps a response's errors few: one entry for each distinct limit
// message (a query past its deadline fails every field it had left, all with the
// same message), and at most max entries, the rest counted in a last one.
type errorCap struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = errorCap{}

func (errorCap) ExtensionName() string                   { return "ErrorCap" }
func (errorCap) Validate(graphql.ExecutableSchema) error { return nil }

func (c errorCap) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 1 {
		resp.Errors = capErrors(resp.Errors, c.max)
	}
	return resp
}

func capErrors(errs gqlerror.List, limit int) gqlerror.List {
	var (
		out  gqlerror.List
		seen map[string]bool
	)
	for _, e := range errs {
		if e.Extensions["code"] == fengqiao.ELIMIT {
			if seen[e.Message] {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[e.Message] = true
		}
		out = append(out, e)
	}
	if len(out) > limit {
		rest := len(out) - limit
		out = append(out[:limit:limit], &gqlerror.Error{Message: fmt.Sprintf("另有%d条错误未列出（每次响应最多列出%d条）", rest, limit),
			Extensions: map[string]any{"code": fengqiao.ELIMIT}})
	}
	return out
}
