package manifest

import (
	"errors"
	"io/fs"
	"path"
	"sort"
)

// Load parses every *.yaml manifest of fsys. It returns all the problems of all
// the files together, so that one start shows everything to fix; names must be
// unique.
func Load(fsys fs.FS, vars map[string]string) ([]*Manifest, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Manifest
	var problems Problems
	names := map[string]string{}
	for _, f := range files {
		text, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		m, err := Parse(f, text, vars)
		var ps Problems
		switch {
		case errors.As(err, &ps):
			problems = append(problems, ps...)
			continue
		case err != nil:
			return nil, err
		}
		if other, dup := names[m.Name]; dup {
			problems = append(problems, Problem{f, 0, "name " + m.Name + " 与 " + path.Base(other) + " 重复"})
			continue
		}
		names[m.Name] = f
		out = append(out, m)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}
