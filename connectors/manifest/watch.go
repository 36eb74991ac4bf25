package manifest

import (
	"crypto/sha256"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"fengqiao/connectors"
)

// Folder runs the manifests of a folder on a runner and follows its changes: a
// file added or changed replaces its connector (the old version's batch in flight
// commits first; cursor and quarantine stay), a file removed stops it (its events
// stay), and a file that does not parse, or names a connector another file runs,
// is refused with its reason — logged and shown by the runner's states, the
// version running, if any, staying.
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

	mu    sync.Mutex             // one scan at a time
	files map[string]*folderFile // by file name
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
		f.files = map[string]*folderFile{}
	}
	names, err := fs.Glob(f.FS, "*.yaml")
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
		text, err := fs.ReadFile(f.FS, name)
		if err != nil {
			return changed, err
		}
		sum := sha256.Sum256(text)
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
		f.apply(name, ff, text)
	}
	return changed, nil
}

// apply runs a changed file's manifest, or refuses it.
func (f *Folder) apply(file string, ff *folderFile, text []byte) {
	m, err := Parse(file, text, f.Vars)
	if err == nil {
		for other, o := range f.files {
			if other != file && o.running == m.Name {
				err = Problems{{file, 0, "name " + m.Name + " 与 " + path.Base(other) + " 重复"}}
			}
		}
	}
	if err != nil {
		f.clearRefusal(ff)
		ff.refused = ff.running
		if ff.refused == "" {
			ff.refused = strings.TrimSuffix(file, ".yaml")
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
	m.Upstream.Transport = f.Transport
	f.Runner.Replace(Open(m, f.Log)) // a Dispatcher when the manifest declares actions
	if replaced {
		f.log().Info("清单已更新，连接器已换用新版本", "file", file, "connector", m.Name)
	} else {
		f.log().Info("清单已加载", "file", file, "connector", m.Name)
	}
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
