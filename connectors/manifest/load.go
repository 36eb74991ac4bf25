package manifest

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Load parses every manifest of fsys (see files). It returns all the problems of
// all the files together, so that one start shows everything to fix; names must
// be unique, and none of builtin: the connectors the hub runs already.
func Load(fsys fs.FS, vars map[string]string, builtin ...string) ([]*Manifest, error) {
	files, err := files(fsys)
	if err != nil {
		return nil, err
	}
	var out []*Manifest
	var problems Problems
	names := map[string]string{} // the file running each name, "" for a built-in
	for _, name := range builtin {
		names[name] = ""
	}
	for _, f := range files {
		text, err := readFile(fsys, f)
		var m *Manifest
		if err == nil {
			m, err = Parse(f, text, vars)
		}
		if err == nil {
			if other, dup := names[m.Name]; dup {
				err = taken(f, m.Name, other)
			}
		}
		var ps Problems
		switch {
		case errors.As(err, &ps):
			problems = append(problems, ps...)
			continue
		case err != nil:
			return nil, err
		}
		names[m.Name] = f
		out = append(out, m)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// taken refuses the manifest of file for a name the file other runs already, or
// a built-in connector when other is "".
func taken(file, name, other string) Problems {
	if other == "" {
		return Problems{{file, 0, "name " + name + " 已被内置连接器使用，请换一个名字"}}
	}
	return Problems{{file, 0, "name " + name + " 与 " + path.Base(other) + " 重复"}}
}

// maxFileSize is the largest manifest read: one is a few kilobytes.
const maxFileSize = 1 << 20

// files lists the manifests of fsys, sorted: the files named *.yaml or *.yml,
// save dot-files (an editor's lock or backup, like Emacs's .#app.yaml) and what
// is not a regular file or a symbolic link to one (a directory, a FIFO or a
// device, which would block or never end). A link that leads nowhere is listed,
// to be refused with its reason.
func files(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || (path.Ext(name) != ".yaml" && path.Ext(name) != ".yml") {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if st, err := fs.Stat(fsys, name); err != nil || st.Mode().IsRegular() {
				out = append(out, name)
			}
			continue
		}
		if e.Type().IsRegular() {
			out = append(out, name)
		}
	}
	return out, nil
}

// readFile reads the manifest file name of fsys: Problems for one that cannot be
// read or is larger than maxFileSize.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, unreadable(name, err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	switch {
	case err != nil:
		return nil, unreadable(name, err)
	case len(text) > maxFileSize:
		return nil, Problems{{name, 0, "文件超过 1 MiB，不像连接器清单，未读取"}}
	}
	return text, nil
}

func unreadable(name string, err error) Problems {
	reason := "无法读取：" + err.Error()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = "无法读取：文件不存在（可能是指向不存在文件的符号链接）"
	case errors.Is(err, fs.ErrPermission):
		reason = "无法读取：没有读取权限"
	}
	return Problems{{name, 0, reason}}
}
