package gateway

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"fengqiao"
)

// maxJSONDepth is how deeply a request's JSON may nest objects and arrays.
const maxJSONDepth = 32

// bodyScanner reads a request's JSON once, before it is decoded, and stops at the
// first thing wrong: nesting deeper than maxJSONDepth, or variables beyond the
// bounds of checkVariables. Decoding a megabyte of JSON into Go values takes tens
// of milliseconds; a hostile body costs only what the scanner reads of it. It
// checks the syntax it passes over; the decoder that follows checks the rest.
type bodyScanner struct {
	cfg    Config
	b      []byte
	i      int
	values int // variable values seen
}

// scanContext is where a value sits.
type scanContext struct {
	depth     int    // containers enclosing the value
	root      bool   // the request object itself
	variables bool   // the variables object
	varName   string // the variable the value is (part of), "" outside variables
	varDepth  int    // containers between the variable and the value
}

// Sentinels of the scan, turned into refusals that name where they were found.
var (
	errNotJSON = &badRequest{status: http.StatusBadRequest, code: fengqiao.EINVALID}
	errTooLong = &badRequest{status: http.StatusBadRequest, code: fengqiao.EINVALID}
)

// scanBody scans a request body: one JSON object (a batch array, or anything
// else, is refused) whose "variables" member is bounded.
func scanBody(cfg Config, b []byte, what string) *badRequest {
	s := &bodyScanner{cfg: cfg, b: b}
	s.space()
	switch {
	case s.i == len(b):
		return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s为空：须为 JSON 对象，如 {\"query\": \"{ me { name } }\"}", what)
	case b[s.i] == '[':
		return refused(http.StatusBadRequest, fengqiao.EINVALID, "不支持批量查询：%s须为单个 JSON 对象，而不是数组", what)
	case b[s.i] != '{':
		if json.Valid(b) {
			return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s须为 JSON 对象，如 {\"query\": \"{ me { name } }\"}", what)
		}
		return notJSON(what)
	}
	return s.finish(s.value(scanContext{root: true}), what)
}

// scanVariables scans the variables of a GET request: one JSON object.
func scanVariables(cfg Config, b []byte, what string) *badRequest {
	s := &bodyScanner{cfg: cfg, b: b}
	s.space()
	if s.i == len(b) || b[s.i] != '{' {
		if json.Valid(b) {
			return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s须为 JSON 对象", what)
		}
		return notJSON(what)
	}
	return s.finish(s.value(scanContext{variables: true}), what)
}

func (s *bodyScanner) finish(bad *badRequest, what string) *badRequest {
	if bad == nil {
		if s.space(); s.i != len(s.b) {
			bad = errNotJSON
		}
	}
	if bad == errNotJSON {
		return notJSON(what)
	}
	return bad
}

func notJSON(what string) *badRequest {
	return refused(http.StatusBadRequest, fengqiao.EINVALID, "%s不是合法的 JSON", what)
}

func (s *bodyScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value scans one value at s.i.
func (s *bodyScanner) value(c scanContext) *badRequest {
	s.space()
	if s.i == len(s.b) {
		return errNotJSON
	}
	inVars := c.varName != ""
	if inVars {
		if c.varDepth > maxValueDepth {
			return refused(http.StatusBadRequest, fengqiao.ELIMIT, msgVarDepth, c.varName, maxValueDepth)
		}
		if s.values++; s.values > maxVariableValues(s.cfg) {
			return refused(http.StatusBadRequest, fengqiao.ELIMIT, msgVarValues, maxVariableValues(s.cfg))
		}
	}
	switch s.b[s.i] {
	case '{', '[':
		if c.depth >= maxJSONDepth {
			return refused(http.StatusBadRequest, fengqiao.EINVALID, "请求的 JSON 嵌套超过%d层", maxJSONDepth)
		}
		if s.b[s.i] == '{' {
			return s.object(c)
		}
		return s.array(c)
	case '"':
		limit := -1
		if inVars {
			limit = s.cfg.MaxStringLength
		}
		if _, bad := s.str(limit); bad != nil {
			if bad == errTooLong {
				return refused(http.StatusBadRequest, fengqiao.EINVALID, msgVarString, c.varName, s.cfg.MaxStringLength)
			}
			return bad
		}
		return nil
	}
	start := s.i
	for s.i < len(s.b) && !isDelimiter(s.b[s.i]) {
		s.i++
	}
	if s.i == start {
		return errNotJSON
	}
	return nil
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
		return true
	}
	return false
}

func (s *bodyScanner) object(c scanContext) *badRequest {
	s.i++ // {
	for n := 0; ; n++ {
		s.space()
		if s.i < len(s.b) && s.b[s.i] == '}' && n == 0 {
			s.i++
			return nil
		}
		switch {
		case c.variables && n == s.cfg.MaxVariables:
			return refused(http.StatusBadRequest, fengqiao.ELIMIT, msgVariables, s.cfg.MaxVariables)
		case c.varName != "" && n == s.cfg.MaxListItems:
			return refused(http.StatusBadRequest, fengqiao.ELIMIT, msgVarObject, c.varName, s.cfg.MaxListItems)
		}
		if s.i == len(s.b) || s.b[s.i] != '"' {
			return errNotJSON
		}
		keyStart := s.i
		if _, bad := s.str(-1); bad != nil {
			return bad
		}
		s.space()
		if s.i == len(s.b) || s.b[s.i] != ':' {
			return errNotJSON
		}
		s.i++
		child := scanContext{depth: c.depth + 1, varName: c.varName, varDepth: c.varDepth + 1}
		switch {
		case c.root:
			var key string
			json.Unmarshal(s.b[keyStart:s.i-1], &key)
			child.variables = key == "variables"
		case c.variables:
			var key string
			json.Unmarshal(s.b[keyStart:s.i-1], &key)
			child.varName, child.varDepth = "$"+key, 0
		}
		if bad := s.value(child); bad != nil {
			return bad
		}
		s.space()
		if s.i == len(s.b) {
			return errNotJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errNotJSON
		}
	}
}

func (s *bodyScanner) array(c scanContext) *badRequest {
	s.i++ // [
	for n := 0; ; n++ {
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' && n == 0 {
			s.i++
			return nil
		}
		if c.varName != "" && n == s.cfg.MaxListItems {
			return refused(http.StatusBadRequest, fengqiao.ELIMIT, msgVarList, c.varName, s.cfg.MaxListItems)
		}
		if bad := s.value(scanContext{depth: c.depth + 1, varName: c.varName, varDepth: c.varDepth + 1}); bad != nil {
			return bad
		}
		s.space()
		if s.i == len(s.b) {
			return errNotJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errNotJSON
		}
	}
}

// str scans a string at s.i and returns its length in characters, an escape
// counting as one; or errTooLong as soon as it is longer than limit (if limit >= 0).
func (s *bodyScanner) str(limit int) (int, *badRequest) {
	s.i++ // "
	n := 0
	for s.i < len(s.b) {
		if n > limit && limit >= 0 {
			return n, errTooLong
		}
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return n, nil
		case c == '\\':
			if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
				s.i += 6
			} else {
				s.i += 2
			}
		case c < 0x20:
			return 0, errNotJSON
		case c < utf8.RuneSelf:
			s.i++
		default:
			_, size := utf8.DecodeRune(s.b[s.i:])
			s.i += size
		}
		n++
	}
	return 0, errNotJSON
}
