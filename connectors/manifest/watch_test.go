package manifest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/connectors"
	"fengqiao/connectors/manifest"
	"fengqiao/search"
)

// folderRunner opens a runner on an index and a state in a temporary directory,
// and a manifest folder in another, on it.
func folderRunner(t *testing.T) (*connectors.Runner, *manifest.Folder, string, fengqiao.Index) {
	t.Helper()
	data, dir := t.TempDir(), t.TempDir()
	idx, err := search.OpenBleve(filepath.Join(data, "events.bleve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	st, err := connectors.OpenState(filepath.Join(data, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &connectors.Runner{Tree: fengqiao.Wenling(), Index: idx, State: st, Interval: time.Hour}
	return r, &manifest.Folder{FS: os.DirFS(dir), Runner: r}, dir, idx
}

// placedBoard is tokenBoard placed in the county, so that its records index.
var placedBoard = strings.Replace(tokenBoard, "  status:", "  orgCode: '\"331081\"'\n  status:", 1)

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// refusals are the reasons the runner's states show, by name.
func refusals(t *testing.T, r *connectors.Runner) map[string]string {
	t.Helper()
	states, err := r.States()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range states {
		if st.Refused != "" {
			out[st.Name] = st.Refused
		}
	}
	return out
}

func names(r *connectors.Runner) []string {
	var out []string
	for _, c := range r.Connectors() {
		out = append(out, c.Name())
	}
	return out
}

// A changed manifest is taken by the scan without waiting for the batch in
// flight, which a slow upstream holds: the old version commits the pages it has
// read and the new one reads on. A replay or a cursor reset whose caller stops
// waiting meanwhile is refused rather than left hanging.
func TestAReloadDoesNotWaitForTheBatchInFlight(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 10), make(chan struct{})
	var releaseOnce, blockOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(let)
	pages := map[string]string{ // three records a page, by pageToken
		"":   `{"data":{"list":[%s,%s,%s],"next":"t2"}}`,
		"t2": `{"data":{"list":[%s,%s,%s],"next":"t3"}}`,
		"t3": `{"data":{"list":[%s],"next":""}}`,
	}
	first := map[string]int{"": 1, "t2": 4, "t3": 7}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token := req.URL.Query().Get("pageToken")
		if token == "t2" { // the first time, the upstream is slow until let go
			blockOnce.Do(func() { entered <- struct{}{}; <-release })
		}
		var recs []any
		for i := first[token]; i < first[token]+strings.Count(pages[token], "%s"); i++ {
			recs = append(recs, fmt.Sprintf(`{"留言编号":"A%d","标题":"留言%d","时间":%d}`, i, i, 1793500000+i))
		}
		fmt.Fprintf(w, pages[token], recs...)
	}))
	t.Cleanup(srv.Close)
	r, folder, dir, idx := folderRunner(t)
	board := strings.Replace(placedBoard, "http://127.0.0.1:9", srv.URL, 1)
	writeFile(t, dir, "board.yaml", board)
	if _, err := folder.Scan(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { r.Run(ctx); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })
	<-entered // the first batch has read page one and waits for page two

	// Without the fix the scan waits for the upstream: let it go after a while,
	// so that the test fails instead of hanging.
	watchdog := time.AfterFunc(20*time.Second, let)
	defer watchdog.Stop()
	writeFile(t, dir, "board.yaml", strings.Replace(board, `title: r["标题"]`, `title: '"新：" + r["标题"]'`, 1))
	if n, err := folder.Scan(); n != 1 || err != nil {
		t.Fatalf("scan = %d, %v", n, err)
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop() // a caller that stopped waiting
	_, resetErr := r.ResetCursor(cancelled, "board", time.Time{})
	_, replayErr := r.ReplayQuarantine(cancelled, "board")
	select {
	case <-release:
		t.Fatal("the scan, the reset or the replay waited for the batch in flight")
	default:
	}
	for what, err := range map[string]error{"reset": resetErr, "replay": replayErr} {
		if fengqiao.ErrorCode(err) != fengqiao.EUNAVAILABLE || !strings.Contains(fengqiao.ErrorMessage(err), "正在同步") {
			t.Errorf("%s during a batch: %v, want EUNAVAILABLE 连接器正在同步", what, err)
		}
	}
	if st, _ := r.States(); len(st) != 1 || st[0].CaughtUp {
		t.Errorf("a version waiting to run shows as %+v", st)
	}
	let()

	// The old version commits the two pages it has; the new one reads the third.
	want := map[string]string{"A1": "留言1", "A6": "留言6", "A7": "新：留言7"}
	var got map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		page, err := idx.Search(context.Background(), fengqiao.EventQuery{First: 50})
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]string{}
		for _, e := range page.Events {
			got[e.SourceID] = e.Title
		}
		if got["A7"] != "" {
			break
		}
	}
	for id, title := range want {
		if got[id] != title {
			t.Errorf("%s indexed as %q, want %q (all: %v)", id, got[id], title, got)
		}
	}
}

// A manifest cannot take the name of a connector the hub runs itself, at start
// or on reload: it is refused, and removing it leaves that connector running.
func TestAManifestCannotTakeABuiltInConnectorsName(t *testing.T) {
	t.Parallel()
	r, folder, dir, _ := folderRunner(t)
	court := strings.Replace(tokenBoard, "name: board", "name: court", 1)
	m, err := manifest.Parse("court.yaml", []byte(court), nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin := manifest.New(m, nil) // added by the hub, not by the folder
	r.Add(builtin)
	writeFile(t, dir, "court.yaml", court)
	writeFile(t, dir, "board.yaml", tokenBoard)

	_, err = manifest.Load(folder.FS, nil, "court")
	if err == nil || !strings.Contains(err.Error(), "court.yaml: name court 已被内置连接器使用") {
		t.Errorf("start with court.yaml: %v", err)
	}
	for range 2 { // at start, and again on reload
		if _, err := folder.Scan(); err != nil {
			t.Fatal(err)
		}
		if got := refusals(t, r); len(got) != 1 || !strings.Contains(got["court.yaml"], "已被内置连接器使用") {
			t.Errorf("refused: %v", got)
		}
		if cs := r.Connectors(); len(cs) != 2 || cs[0] != builtin || cs[1].Name() != "board" {
			t.Errorf("running: %v", names(r))
		}
		writeFile(t, dir, "court.yaml", court+"# changed\n")
	}
	os.Remove(filepath.Join(dir, "court.yaml"))
	if _, err := folder.Scan(); err != nil {
		t.Fatal(err)
	}
	if cs := r.Connectors(); len(cs) != 2 || cs[0] != builtin || len(refusals(t, r)) != 0 {
		t.Errorf("after removing court.yaml: %v, refused %v", names(r), refusals(t, r))
	}
}

// A file that cannot be read is refused alone: an editor's lock file, a FIFO or
// a device are not manifests and are skipped, a file over 1 MiB or a link that
// leads nowhere is refused with its reason, and the other manifests, *.yml too,
// load at start and on reload.
func TestAnUnreadableFileIsRefusedAlone(t *testing.T) {
	t.Parallel()
	r, folder, dir, _ := folderRunner(t)
	writeFile(t, dir, "board.yaml", tokenBoard)
	writeFile(t, dir, "other.yml", strings.Replace(tokenBoard, "name: board", "name: other", 1))
	for link, to := range map[string]string{".#board.yaml": "me@host.1234:1700000000", "zero.yaml": "/dev/zero"} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	if _, err := manifest.Load(folder.FS, nil); err != nil {
		t.Fatalf("start beside a lock file and a device: %v", err)
	}

	writeFile(t, dir, "big.yaml", tokenBoard+strings.Repeat("#", 1<<20))
	if err := os.Symlink("nowhere.yaml", filepath.Join(dir, "gone.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := manifest.Load(folder.FS, nil)
	if err == nil || !strings.Contains(err.Error(), "big.yaml: 文件超过 1 MiB") || !strings.Contains(err.Error(), "gone.yaml: 无法读取：文件不存在") {
		t.Errorf("start with a big file and a broken link: %v", err)
	}
	if _, err := folder.Scan(); err != nil {
		t.Fatal(err)
	}
	if got := names(r); fmt.Sprint(got) != "[board other]" {
		t.Errorf("running: %v", got)
	}
	got := refusals(t, r)
	if len(got) != 2 || !strings.Contains(got["big"], "文件超过 1 MiB") || !strings.Contains(got["gone"], "文件不存在") {
		t.Errorf("refused: %v", got)
	}
}
