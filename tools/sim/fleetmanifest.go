package sim

import (
	"fmt"
	"regexp"
	"strings"
)

// Manifest returns the connector manifest that describes the app, as an
// integration engineer would write it from the app's API document. It names the
// fleet's address and secret ${FLEET_URL} and ${FLEET_SECRET}.
func (a *App) Manifest() string {
	s, k := a.style, a.style.keys
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# %s：%s 分页，%s 鉴权，每秒最多 %g 次请求（fengqiao 模拟的长尾应用）。", a.Title, s.paging, s.auth, a.RateLimit)
	line("name: %s", a.Name)
	line("title: %s", a.Title)
	line("source: APP")
	line("baseURL: ${FLEET_URL}/%s", a.Name)
	line("auth:")
	switch s.auth {
	case "apiKey":
		line(`  apiKey: {header: %s, value: "${FLEET_SECRET}"}`, s.keyHeader)
	case "bearer":
		line(`  bearer: {tokenURL: /oauth/token, clientId: %s, clientSecret: "${FLEET_SECRET}"}`, a.Name)
	case "hmac":
		line(`  hmac: {keyHeader: X-App-Key, key: %s, secret: "${FLEET_SECRET}", timestampHeader: X-Ts, signatureHeader: X-Sig, sign: '{method}\n{uri}\n{ts}'}`, a.Name)
	}
	line("request: {path: %s}", s.path)
	switch s.paging {
	case "page":
		line("pagination: {type: page, size: %d, pageParam: %s, sizeParam: %s}", s.pageSize, s.pageParams[0], s.pageParams[1])
	case "offset":
		line("pagination: {type: offset, size: %d, offsetParam: %s, limitParam: %s}", s.pageSize, s.pageParams[0], s.pageParams[1])
	case "token":
		line("pagination: {type: token, size: %d, tokenParam: %s, nextToken: %s}", s.pageSize, s.pageParams[0], s.next)
	}
	if s.paging != "token" {
		line("incremental: {param: %s, field: %s, format: %q}", s.since, k.updated, s.timeFormat)
	}
	line("records: %s", s.records)
	line("id: %s", field(k.id))
	line("event:")
	line(`  kind: '"%s"'`, a.kind)
	line("  title: %s", field(k.title))
	line("  content: %s", field(k.content))
	line("  category: %s", field(k.category))
	line("  reportedAt: parseTime(%s, %q)", field(k.reported), s.timeFormat)
	line(`  status: code("status", %s)`, field(k.status))
	line("  orgCode: %s", field(k.area))
	line("  address: %s", field(k.address))
	line("  updatedAt: parseTime(%s, %q)", field(k.updated), s.timeFormat)
	line("codes:")
	line(`  status: {%q: RECEIVED, %q: IN_PROGRESS, %q: RESOLVED, %q: CLOSED}`, s.codes[0], s.codes[1], s.codes[2], s.codes[3])
	line("rateLimit: %g/s", a.RateLimit)
	return b.String()
}

var celName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// field is the CEL expression that reads a record's key: r.name, or r["名称"]
// for a key CEL cannot select with a dot.
func field(key string) string {
	if celName.MatchString(key) {
		return "r." + key
	}
	return fmt.Sprintf("r[%q]", key)
}
