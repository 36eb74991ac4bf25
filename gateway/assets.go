package gateway

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// web holds the front-end files: the page templates, and dist/, which `make assets`
// fills from npm at build time. Nothing is loaded from a CDN.
//
//go:embed all:web/dist web/*.html
var web embed.FS

// assets serves the embedded dist/ files under content-hashed URLs
// (/assets/<hash>/<name>), cached for a year.
type assets struct {
	files map[string][]byte // by name
	urls  map[string]string // name → hashed URL
}

func loadAssets() *assets {
	a := &assets{files: map[string][]byte{}, urls: map[string]string{}}
	entries, _ := fs.ReadDir(web, "web/dist")
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := web.ReadFile("web/dist/" + e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		a.files[e.Name()] = b
		a.urls[e.Name()] = "/assets/" + hex.EncodeToString(sum[:6]) + "/" + e.Name()
	}
	return a
}

// url returns the hashed URL of a dist file, "" if the assets were not built.
func (a *assets) url(name string) string { return a.urls[name] }

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	b, ok := a.files[name]
	if !ok || a.urls[name] != r.URL.Path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, name, startTime, bytes.NewReader(b))
}

var pages = template.Must(template.ParseFS(web, "web/*.html"))

// graphiqlAssets names the dist files the GraphiQL page loads, by template key.
var graphiqlAssets = map[string]string{
	"React":       "react.production.min.js",
	"ReactDOM":    "react-dom.production.min.js",
	"GraphiQL":    "graphiql.min.js",
	"GraphiQLCSS": "graphiql.min.css",
}

// connectorsPage serves the page of the upstream connectors (state, lag,
// quarantine, replay) beside the cockpit; it loads nothing but itself.
func (s *Server) connectorsPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "connectors.html", nil)
}

// cockpit serves the reference cockpit page.
func (s *Server) cockpit(w http.ResponseWriter, r *http.Request) {
	url := s.assets.url("echarts.min.js")
	if url == "" {
		http.Error(w, "驾驶舱前端资源未构建：请先运行 make assets 再构建程序", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "cockpit.html", map[string]string{"ECharts": url})
}

// graphiql serves the offline GraphiQL page.
func (s *Server) graphiql(w http.ResponseWriter, r *http.Request) {
	urls := map[string]string{}
	for key, name := range graphiqlAssets {
		if urls[key] = s.assets.url(name); urls[key] == "" {
			http.Error(w, "GraphiQL 前端资源未构建：请先运行 make assets 再构建程序", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "graphiql.html", urls)
}
