package manifest

import (
	"crypto/sha256"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"fengqiao"
	"fengqiao/connectors"
)

// Folder runs the manifests of a folder on a runner and follows its changes: a
// file added or changed replaces its connector (the old version's batch in flight
// commits first, the scan not waiting for it; cursor and quarantine stay), a file
// removed stops it (its events stay), and a file that cannot be read (see files),
// does not parse, or names a connector another file or the hub itself runs, is
// refused with its reason — logged and shown by the runner's states, the version
// running, if any, staying.
//
// It polls (Watch) instead of asking the system to tell it of changes: content
// hashes every few seconds see every change on any filesystem, network and
// container mounts included, where change notifications are missed or never
// come, and cost next to nothing for a hundred small files.
type Folder struct {
	FS     fs.FS
	Vars   map[string]string // fill the manifests' ${NAME}
	Runner *connectors.Runner
	Log    *slog.Logger
	// Transport is the HTTP transport every app's client shares (the hub's,
	// bounded to upstreamConns a host); nil shares the process's default one.
	Transport http.RoundTripper

	mu     sync.Mutex             // one scan at a time
	files  map[string]*folderFile // by file name
	loaded map[string]bool        // the names of the connectors the folder started
}

// folderFile is what the folder knows of one file.
type folderFile struct {
	sum     [sha256.Size]byte
	running string // the connector this file runs, "" if none
	refused string // the name its refusal is shown under, "" if none
}

// Scan reads the folder once and applies what changed since the last scan (at
// the first, every file). It returns how many files changed.
func (f *Folder) Scan() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files, f.loaded = map[string]*folderFile{}, map[string]bool{}
	}
	names, err := files(f.FS)
	if err != nil {
		return 0, err
	}
	present, changed := map[string]bool{}, 0
	for _, name := range names {
		present[name] = true
	}
	// Removals first: a name they free may be taken by a file changed now, and
	// a file refused for taking it is tried again.
	for name, ff := range f.files {
		if present[name] {
			continue
		}
		changed++
		f.clearRefusal(ff)
		if ff.running != "" {
			f.Runner.Remove(ff.running)
			f.log().Info("清单已删除，连接器已停止（已入库的事件保留）", "file", name, "connector", ff.running)
			for _, other := range f.files {
				if other.refused != "" {
					other.sum = [sha256.Size]byte{}
				}
			}
		}
		delete(f.files, name)
	}
	for _, name := range names {
		text, err := readFile(f.FS, name)
		sum := sha256.Sum256(text)
		if err != nil { // told apart from any text, so that it is refused once
			sum = sha256.Sum256([]byte("\x00" + err.Error()))
		}
		ff := f.files[name]
		if ff != nil && ff.sum == sum {
			continue
		}
		if ff == nil {
			ff = &folderFile{}
			f.files[name] = ff
		}
		ff.sum = sum
		changed++
		f.apply(name, ff, text, err)
	}
	return changed, nil
}

// apply runs a changed file's manifest, or refuses it, or the error reading it.
func (f *Folder) apply(file string, ff *folderFile, text []byte, err error) {
	var m *Manifest
	if err == nil {
		m, err = Parse(file, text, f.Vars)
	}
	if err == nil {
		err = f.taken(file, m.Name)
	}
	if err != nil {
		f.clearRefusal(ff)
		// Shown under the connector it runs, else its file's name, or the whole
		// file name when that is a connector's (court.yaml beside the hub's court).
		ff.refused = ff.running
		if ff.refused == "" {
			ff.refused = strings.TrimSuffix(file, path.Ext(file))
			if f.holds(ff.refused) {
				ff.refused = file
			}
		}
		reason := err.Error()
		f.Runner.Refuse(ff.refused, file, reason)
		if ff.running != "" {
			f.log().Warn("清单有误，未采用，继续运行原版本", "file", file, "connector", ff.running, "reason", reason)
		} else {
			f.log().Warn("清单有误，未采用", "file", file, "reason", reason)
		}
		return
	}
	f.clearRefusal(ff)
	if ff.running != "" && ff.running != m.Name { // renamed: a new connector
		f.Runner.Remove(ff.running)
	}
	replaced := ff.running == m.Name
	ff.running = m.Name
	f.loaded[m.Name] = true
	m.Upstream.Transport = f.Transport
	f.Runner.Replace(Open(m, f.Log)) // a Dispatcher when the manifest declares actions
	if replaced {
		f.log().Info("清单已更新，连接器已换用新版本", "file", file, "connector", m.Name)
	} else {
		f.log().Info("清单已加载", "file", file, "connector", m.Name)
	}
}

// taken refuses a name another file runs, or the runner holds for a connector
// the folder did not start: a built-in one, whose cursor a manifest must not
// take over, nor stop by its removal.
func (f *Folder) taken(file, name string) error {
	for other, o := range f.files {
		if other != file && o.running == name {
			return taken(file, name, other)
		}
	}
	if !f.loaded[name] && f.holds(name) {
		return taken(file, name, "")
	}
	return nil
}

// holds reports whether the runner has a connector named name.
func (f *Folder) holds(name string) bool {
	return slices.ContainsFunc(f.Runner.Connectors(), func(c fengqiao.Connector) bool { return c.Name() == name })
}

func (f *Folder) clearRefusal(ff *folderFile) {
	if ff.refused != "" {
		f.Runner.Refuse(ff.refused, "", "")
		ff.refused = ""
	}
}

// Watch scans the folder every interval until stop is closed.
func (f *Folder) Watch(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := f.Scan(); err != nil {
				f.log().Warn("读取清单目录失败", "err", err)
			}
		}
	}
}

func (f *Folder) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}
