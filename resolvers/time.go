package resolvers

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"fengqiao"
)

// The Time scalar (gqlgen.yml binds it here): every time the API returns is
// China Standard Time, RFC 3339 with the offset +08:00 ("2026-05-01T17:00:00+08:00"),
// whatever zone it was stored or computed in, so that a client never sees one
// field in UTC beside another in +08:00 (docs/schema.md "Times").

// MarshalTime writes t in China Standard Time; the zero time is null.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.In(fengqiao.CST).Format(time.RFC3339Nano)))
	})
}

// timeLayouts are the forms a Time argument may take. The first two carry their
// offset (any offset: "Z" is UTC); the others have none and are China time.
var timeLayouts = []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", time.DateTime, time.DateOnly}

// UnmarshalTime reads a Time argument: RFC 3339 with its offset, or a date-time or
// a date without one, taken as China time. Anything else is EINVALID.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if v == nil || ok && s == "" {
		return time.Time{}, nil
	}
	if ok {
		s = strings.TrimSpace(s)
		for i, layout := range timeLayouts {
			loc := time.UTC
			if i >= 2 {
				loc = fengqiao.CST
			}
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
	}
	shown := fmt.Sprintf("%v", v)
	if ok {
		shown = strconv.Quote(s)
	}
	if r := []rune(shown); len(r) > 40 {
		shown = string(r[:40]) + "…"
	}
	return time.Time{}, fengqiao.Errorf(fengqiao.EINVALID,
		"时间格式有误：%s，应为 RFC 3339（如 2026-05-01T08:00:00+08:00），或不带时区的 2026-05-01 08:00:00、2026-05-01（按北京时间）", shown)
}
