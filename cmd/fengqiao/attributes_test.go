package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fengqiao"
)

// attributesManifest is an app with fields of its own, kept as typed attributes.
const attributesManifest = `name: hotlinebbs
title: 百姓论坛
source: APP
baseURL: ${BBS_URL}
request: {path: /posts}
pagination: {type: page, size: 50, pageParam: page, sizeParam: size}
incremental: {param: since, field: t, format: unix}
records: data
id: r.id
defaultOrgCode: "331081"
event:
  kind: '"COMPLAINT"'
  title: r.title
  reportedAt: parseTime(r.t, "unix")
  status: '"RECEIVED"'
  updatedAt: parseTime(r.t, "unix")
attributes:
  - {name: replyCount, label: 回复数, type: int, value: r.replies}
  - {name: score, label: 评分, type: float, value: r.score}
  - {name: anonymous, label: 是否匿名, type: bool, value: r.anon}
  - {name: repliedAt, label: 答复时间, type: time, value: 'parseTime(r.replied, "2006-01-02 15:04:05")'}
  - {name: contact, label: 联系方式, type: string, value: r.contact}
`

// TestAttributesAreTypedThroughGraphQL: an app added by a manifest alone shows its
// own fields on its events through GraphQL, each with its label, its type and its
// typed value; a text attribute's phone is masked for a role that may not see it.
func TestAttributesAreTypedThroughGraphQL(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-time.Hour).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data": [{"id": "T1", "title": "菜市场门口积水", "t": %d, "replies": 7, "score": "4.5", "anon": false,
			"replied": "2026-11-02 09:30:00", "contact": "电话 13912345678"}]}`, at)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bbs.yaml"), []byte(attributesManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	hub, err := OpenHub(Config{Data: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", Manifests: dir,
		ManifestVars: map[string]string{"BBS_URL": srv.URL}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	if err := hub.Runner.SyncUntilCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	base := "http://" + hub.Addr()

	type attribute struct {
		Name, Label, Type, Value string
		IntValue                 *int
		FloatValue               *float64
		BoolValue                *bool
		TimeValue                *string
	}
	read := func(role fengqiao.Role) map[string]attribute {
		var out struct {
			Events struct {
				Edges []struct {
					Node struct{ Attributes []attribute }
				}
			}
		}
		graphQL(t, base, token(t, hub, role, "331081"),
			`{ events(first: 5) { edges { node { attributes { name label type value intValue floatValue boolValue timeValue } } } } }`, &out)
		if len(out.Events.Edges) != 1 {
			t.Fatalf("%d events, want 1", len(out.Events.Edges))
		}
		byName := map[string]attribute{}
		for _, a := range out.Events.Edges[0].Node.Attributes {
			byName[a.Name] = a
		}
		return byName
	}
	got := read(fengqiao.RoleCommander)
	show := func(a attribute) string {
		b, _ := json.Marshal(a)
		return string(b)
	}
	for name, want := range map[string]string{
		"replyCount": `{"Name":"replyCount","Label":"回复数","Type":"INT","Value":"7","IntValue":7,"FloatValue":7,"BoolValue":null,"TimeValue":null}`,
		"score":      `{"Name":"score","Label":"评分","Type":"FLOAT","Value":"4.5","IntValue":null,"FloatValue":4.5,"BoolValue":null,"TimeValue":null}`,
		"anonymous":  `{"Name":"anonymous","Label":"是否匿名","Type":"BOOL","Value":"false","IntValue":null,"FloatValue":null,"BoolValue":false,"TimeValue":null}`,
		"repliedAt":  `{"Name":"repliedAt","Label":"答复时间","Type":"TIME","Value":"2026-11-02T09:30:00+08:00","IntValue":null,"FloatValue":null,"BoolValue":null,"TimeValue":"2026-11-02T09:30:00+08:00"}`,
		"contact":    `{"Name":"contact","Label":"联系方式","Type":"STRING","Value":"电话 13912345678","IntValue":null,"FloatValue":null,"BoolValue":null,"TimeValue":null}`,
	} {
		if s := show(got[name]); s != want {
			t.Errorf("%s:\n got %s\nwant %s", name, s, want)
		}
	}
	if v := read(fengqiao.RoleAnalyst)["contact"].Value; v != "电话 139****5678" {
		t.Errorf("an analyst reads contact as %q, want the phone masked", v)
	}
}
