package resolvers

import (
	"errors"
	"regexp"
	"strings"

	"fengqiao"
)

// The refusals of the generated federation code (federation.go), as it words them.
var (
	entityMissingKey = regexp.MustCompile(`missing Key Field "(\w+)" for (\w+)`)
	entityNullKey    = regexp.MustCompile(`all null value KeyFields for (\w+)`)
	entityBadKey     = regexp.MustCompile(`unmarshalling param \d+ for find(\w+)By(\w+)\(\)`)
)

const entityNoTypename = "__typename must be an existing string"

// EntityError puts a refusal of a malformed _entities representation (no
// __typename, an unknown type, its key missing, null or not an ID) in Chinese
// with code invalid; it returns nil for every other error.
func EntityError(err error) *fengqiao.Error {
	msg := err.Error()
	switch {
	case strings.HasSuffix(msg, entityNoTypename):
		return fengqiao.Errorf(fengqiao.EINVALID, "实体表示缺少 __typename（须为实体类型名）")
	case errors.Is(err, ErrUnknownType):
		_, typ, _ := strings.Cut(msg, ErrUnknownType.Error()+": ")
		return fengqiao.Errorf(fengqiao.EINVALID, "未知实体类型 %s", typ)
	case errors.Is(err, ErrTypeNotFound):
		if m := entityMissingKey.FindStringSubmatch(msg); m != nil {
			return fengqiao.Errorf(fengqiao.EINVALID, "实体表示缺少键字段 %s（%s）", m[1], m[2])
		}
		if m := entityNullKey.FindStringSubmatch(msg); m != nil {
			return fengqiao.Errorf(fengqiao.EINVALID, "实体表示的键字段为空（%s）", m[1])
		}
		return fengqiao.Errorf(fengqiao.EINVALID, "实体表示缺少键字段")
	}
	if m := entityBadKey.FindStringSubmatch(msg); m != nil {
		return fengqiao.Errorf(fengqiao.EINVALID, "实体表示的键字段 %s 须为字符串（%s）", strings.ToLower(m[2]), m[1])
	}
	return nil
}
