package gateway

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"fengqiao"
)

// documentBounds refuses, before gqlgen parses and validates it, a document or a set
// of variables too large for the hub to answer in milliseconds. Neither gqlgen's
// parser nor its validator looks at the request's deadline, and the validator's
// OverlappingFieldsCanBeMerged rule is quadratic in the fields that share a response
// name, so the document is bounded here, in one linear pass: its tokens, its
// fragments, the fields it asks for with every fragment spread expanded, its aliases,
// repeated fields, directives, variables, list arguments and strings.
type documentBounds struct {
	cfg Config
	// checked holds the documents gqlgen has parsed and validated: each of them
	// passed these bounds on its way in.
	checked graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*documentBounds)(nil)

func (b *documentBounds) ExtensionName() string                   { return "DocumentBounds" }
func (b *documentBounds) Validate(graphql.ExecutableSchema) error { return nil }

func (b *documentBounds) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if err := checkVariables(b.cfg, p.Variables); err != nil {
		return err
	}
	if b.checked != nil {
		if _, ok := b.checked.Get(ctx, p.Query); ok {
			return nil
		}
	}
	_, err := checkDocument(b.cfg, p.Query)
	return err
}

// maxValueDepth is how deeply a variable's value may nest lists and objects. The
// deepest input of the schema (a filter holding a list) nests three levels.
const maxValueDepth = 16

// The refusals of variables, the same whether the variables are scanned in a
// request body (scanBody) or checked once decoded (checkVariables).
const (
	msgVariables = "请求携带的变量超过%d个"
	msgVarList   = "变量%s中的列表超过%d项"
	msgVarObject = "变量%s中的对象超过%d个字段"
	msgVarString = "变量%s中的字符串最长%d个字符"
	msgVarDepth  = "变量%s嵌套超过%d层"
	msgVarValues = "变量中的取值共超过%d个"
)

// maxVariableValues bounds the values of all variables together.
func maxVariableValues(cfg Config) int { return cfg.MaxVariables * cfg.MaxListItems }

// checkVariables bounds the variables of a request: how many, and in each the
// length of lists and strings and the nesting.
func checkVariables(cfg Config, vars map[string]any) *gqlerror.Error {
	if len(vars) > cfg.MaxVariables {
		return limitError(msgVariables, cfg.MaxVariables)
	}
	values := 0
	for name, v := range vars {
		if err := checkJSONValue(cfg, "$"+name, v, 0, &values); err != nil {
			return err
		}
	}
	return nil
}

func checkJSONValue(cfg Config, where string, v any, depth int, values *int) *gqlerror.Error {
	if depth > maxValueDepth {
		return limitError(msgVarDepth, where, maxValueDepth)
	}
	if *values++; *values > maxVariableValues(cfg) {
		return limitError(msgVarValues, maxVariableValues(cfg))
	}
	switch v := v.(type) {
	case string:
		if utf8.RuneCountInString(v) > cfg.MaxStringLength {
			return invalidError(msgVarString, where, cfg.MaxStringLength)
		}
	case []any:
		if len(v) > cfg.MaxListItems {
			return limitError(msgVarList, where, cfg.MaxListItems)
		}
		for _, item := range v {
			if err := checkJSONValue(cfg, where, item, depth+1, values); err != nil {
				return err
			}
		}
	case map[string]any:
		if len(v) > cfg.MaxListItems {
			return limitError(msgVarObject, where, cfg.MaxListItems)
		}
		for _, item := range v {
			if err := checkJSONValue(cfg, where, item, depth+1, values); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDocument parses a query within the bounds of cfg and measures it; it returns
// the document, or the first bound it exceeds.
func checkDocument(cfg Config, query string) (*ast.QueryDocument, *gqlerror.Error) {
	src := &ast.Source{Input: query}
	lex := lexer.New(src)
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break // the parser reports a lexing error with its position
		}
		if n == cfg.MaxTokens {
			return nil, limitError("查询过长：超过%d个词法单元（名称、标点、取值各计一个），请拆分查询", cfg.MaxTokens)
		}
	}
	doc, err := parser.ParseQuery(src)
	if err != nil {
		gerr, ok := err.(*gqlerror.Error)
		if !ok {
			gerr = gqlerror.Wrap(err)
		}
		gerr.Message = "查询语法错误：" + chinese(gerr.Message)
		gerr.Extensions = map[string]any{"code": fengqiao.EINVALID}
		return nil, gerr
	}
	w := newBoundsWalker(cfg, doc)
	return doc, w.check()
}

// saturated is where the expanded field count stops counting: far above any limit,
// far below overflow.
const saturated = 1 << 40

func satAdd(a, b int) int { return min(a+b, saturated) }

// boundsWalker measures a parsed, not yet validated document. Fragments are looked
// up in a map and measured once each, so the walk is linear in the document however
// often each fragment is spread; the checks that expand fragments run only once the
// expanded size is known to be within MaxSelections, so they are bounded by it.
type boundsWalker struct {
	cfg   Config
	doc   *ast.QueryDocument
	frags map[string]*ast.FragmentDefinition
	// fields is the number of selections of each fragment with its spreads expanded;
	// visiting marks the fragments on the walk's path, to find cycles.
	fields   map[string]int
	visiting map[string]bool
	path     []string
	cycle    []string

	// Per operation, with fragments expanded:
	aliases, directives int
	// visits counts the selections looked at, for the test that the walk is linear.
	visits int
}

func newBoundsWalker(cfg Config, doc *ast.QueryDocument) *boundsWalker {
	w := &boundsWalker{cfg: cfg, doc: doc, frags: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		fields: map[string]int{}, visiting: map[string]bool{}}
	for _, f := range doc.Fragments {
		if _, dup := w.frags[f.Name]; !dup {
			w.frags[f.Name] = f
		}
	}
	return w
}

func (w *boundsWalker) check() *gqlerror.Error {
	if n := len(w.doc.Fragments); n > w.cfg.MaxFragments {
		return limitError("查询定义了%d个片段，超过上限%d", n, w.cfg.MaxFragments)
	}
	// The size of every operation and every fragment, used or not: the validator
	// walks each of them.
	total := 0
	for _, op := range w.doc.Operations {
		total = satAdd(total, w.expanded(op.SelectionSet))
	}
	for _, f := range w.doc.Fragments {
		w.fragmentFields(f.Name)
	}
	if w.cycle != nil {
		return invalidError("片段循环引用：%s", strings.Join(w.cycle, " → "))
	}
	for _, n := range w.fields {
		total = max(total, n)
	}
	if total > w.cfg.MaxSelections {
		if total == saturated {
			return limitError("查询展开片段后的选择项（字段与片段引用）多得无法计数，上限%d：片段每被引用一次，其内容就计一次，请减少片段的相互引用", w.cfg.MaxSelections)
		}
		return limitError("查询展开片段后共%d个选择项（字段与片段引用，片段每被引用一次，其内容就计一次），超过上限%d", total, w.cfg.MaxSelections)
	}
	for _, op := range w.doc.Operations {
		if n := len(op.VariableDefinitions); n > w.cfg.MaxVariables {
			return limitError("查询声明了%d个变量，超过上限%d", n, w.cfg.MaxVariables)
		}
		w.aliases, w.directives = 0, 0
		if err := w.countDirectives(op.Directives); err != nil {
			return err
		}
		for _, v := range op.VariableDefinitions {
			if err := w.countDirectives(v.Directives); err != nil {
				return err
			}
			if err := w.checkValue("$"+v.Variable, v.DefaultValue); err != nil {
				return err
			}
		}
		if err := w.level(op.SelectionSet, -1); err != nil {
			return err
		}
	}
	return nil
}

// expanded returns the number of selections (fields, inline fragments, fragment
// spreads) of set with every fragment spread expanded, saturating at saturated.
func (w *boundsWalker) expanded(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		w.visits++
		switch s := sel.(type) {
		case *ast.Field:
			n = satAdd(n, satAdd(1, w.expanded(s.SelectionSet)))
		case *ast.InlineFragment:
			n = satAdd(n, satAdd(1, w.expanded(s.SelectionSet)))
		case *ast.FragmentSpread:
			n = satAdd(n, satAdd(1, w.fragmentFields(s.Name)))
		}
	}
	return n
}

// fragmentFields returns the expanded size of the named fragment, measured once.
// A spread of a fragment already on the path is a cycle: it is recorded and counts
// nothing. A spread of an unknown fragment counts nothing; the validator names it.
func (w *boundsWalker) fragmentFields(name string) int {
	if n, ok := w.fields[name]; ok {
		return n
	}
	f := w.frags[name]
	if f == nil {
		return 0
	}
	if w.visiting[name] {
		if w.cycle == nil {
			i := len(w.path) - 1
			for i > 0 && w.path[i] != name {
				i--
			}
			w.cycle = append(append([]string{}, w.path[i:]...), name)
		}
		return 0
	}
	w.visiting[name] = true
	w.path = append(w.path, name)
	n := w.expanded(f.SelectionSet)
	w.path = w.path[:len(w.path)-1]
	delete(w.visiting, name)
	w.fields[name] = n
	return n
}

// introspectionLists are the list fields of __Type that nest introspection queries;
// like the validator's MaxIntrospectionDepth rule, they may nest at most
// maxIntrospectionLists deep.
var introspectionLists = map[string]bool{"fields": true, "interfaces": true, "possibleTypes": true, "inputFields": true}

const maxIntrospectionLists = 2

// level checks one selection set, fragments expanded, and the sets below it.
// lists is -1 outside introspection, else the number of introspection list fields
// enclosing set.
func (w *boundsWalker) level(set ast.SelectionSet, lists int) *gqlerror.Error {
	var seen map[string]int
	return w.collect(set, func(f *ast.Field) *gqlerror.Error {
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		if seen == nil {
			seen = map[string]int{}
		}
		if seen[key]++; seen[key] > w.cfg.MaxRepeatedField {
			return limitError("字段%s在同一层重复请求超过%d次", key, w.cfg.MaxRepeatedField)
		}
		if f.Alias != "" && f.Alias != f.Name {
			if w.aliases++; w.aliases > w.cfg.MaxAliases {
				return limitError("查询使用的别名超过%d个（用别名重复请求同一字段也计入此限）", w.cfg.MaxAliases)
			}
		}
		if err := w.countDirectives(f.Directives); err != nil {
			return err
		}
		for _, a := range f.Arguments {
			if err := w.checkValue(a.Name, a.Value); err != nil {
				return err
			}
		}
		below := lists
		if f.Name == "__schema" || f.Name == "__type" {
			below = 0
		} else if lists >= 0 && introspectionLists[f.Name] {
			if below++; below > maxIntrospectionLists {
				return limitError("内省查询嵌套过深：fields、interfaces、possibleTypes、inputFields 最多嵌套%d层", maxIntrospectionLists)
			}
		}
		return w.level(f.SelectionSet, below)
	})
}

// collect calls fn with each field of set, looking through inline fragments and
// fragment spreads as execution does, until fn returns an error. The document has
// no fragment cycle when it runs.
func (w *boundsWalker) collect(set ast.SelectionSet, fn func(*ast.Field) *gqlerror.Error) *gqlerror.Error {
	for _, sel := range set {
		w.visits++
		var err *gqlerror.Error
		switch s := sel.(type) {
		case *ast.Field:
			err = fn(s)
		case *ast.InlineFragment:
			if err = w.countDirectives(s.Directives); err == nil {
				err = w.collect(s.SelectionSet, fn)
			}
		case *ast.FragmentSpread:
			if err = w.countDirectives(s.Directives); err == nil {
				if f := w.frags[s.Name]; f != nil {
					if err = w.countDirectives(f.Directives); err == nil {
						err = w.collect(f.SelectionSet, fn)
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// countDirectives adds directives to the operation's count, and checks their arguments.
func (w *boundsWalker) countDirectives(ds ast.DirectiveList) *gqlerror.Error {
	if w.directives += len(ds); w.directives > w.cfg.MaxDirectives {
		return limitError("查询使用的指令超过%d个", w.cfg.MaxDirectives)
	}
	for _, d := range ds {
		for _, a := range d.Arguments {
			if err := w.checkValue("@"+d.Name+"("+a.Name+")", a.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValue bounds the lists and strings written into a document.
func (w *boundsWalker) checkValue(where string, v *ast.Value) *gqlerror.Error {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		if n := utf8.RuneCountInString(v.Raw); n > w.cfg.MaxStringLength {
			return invalidError("参数%s中的字符串最长%d个字符，收到%d个", where, w.cfg.MaxStringLength, n)
		}
	case ast.ListValue:
		if len(v.Children) > w.cfg.MaxListItems {
			return limitError("参数%s中的列表有%d项，超过上限%d", where, len(v.Children), w.cfg.MaxListItems)
		}
	case ast.ObjectValue:
		if len(v.Children) > w.cfg.MaxListItems {
			return limitError("参数%s中的对象有%d个字段，超过上限%d", where, len(v.Children), w.cfg.MaxListItems)
		}
	}
	for _, c := range v.Children {
		if err := w.checkValue(where, c.Value); err != nil {
			return err
		}
	}
	return nil
}

func invalidError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": fengqiao.EINVALID}
	return err
}
