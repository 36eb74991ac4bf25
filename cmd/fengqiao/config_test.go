package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConfigFromTheEnvironment sets keys of every kind from FENGQIAO_ variables
// and secrets from files, over a config file.
func TestConfigFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fengqiao.yaml")
	os.WriteFile(path, []byte("addr: 127.0.0.1:9000\nhotline12345: {baseURL: http://a.example, apiKey: in-the-file}\n"), 0o600)
	secret := filepath.Join(dir, "es_password")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	key := filepath.Join(dir, "apikey")
	os.WriteFile(key, []byte("from-a-file"), 0o600)
	cfg, used, err := loadConfig(path, []string{
		"FENGQIAO_ADDR=0.0.0.0:8080",
		"FENGQIAO_DATA=/var/lib/fengqiao",
		"FENGQIAO_SYNCINTERVAL=1m",
		"FENGQIAO_HOTLINE12345_APIKEY_FILE=" + key,
		"FENGQIAO_HOTLINE12345_UPSTREAM_BREAKERFAILURES=9",
		"FENGQIAO_GATEWAY_PPROF=true",
		"FENGQIAO_GATEWAY_MAXDEPTH=7",
		"FENGQIAO_ELASTICSEARCH_URLS=http://es1:9200, http://es2:9200",
		"FENGQIAO_ELASTICSEARCH_PASSWORD_FILE=" + secret,
		"FENGQIAO_MANIFESTVARS_CITYMGMT_KEY=k",
		"FENGQIAO_RETENTION_YEARS=3",
		"FENGQIAO_LOG_FORMAT=json",
		"FENGQIAO_TEST_SOMETHING=not a config key",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.Addr != "0.0.0.0:8080", cfg.Data != "/var/lib/fengqiao", cfg.SyncInterval != time.Minute:
		t.Errorf("addr, data, syncInterval: %q %q %v", cfg.Addr, cfg.Data, cfg.SyncInterval)
	case cfg.Hotline12345.APIKey != "from-a-file", cfg.Hotline12345.BaseURL != "http://a.example", cfg.Hotline12345.Upstream.BreakerFailures != 9:
		t.Errorf("hotline12345: %+v", *cfg.Hotline12345)
	case !cfg.Gateway.Pprof, cfg.Gateway.MaxDepth != 7:
		t.Errorf("gateway: %+v", cfg.Gateway)
	case cfg.Elasticsearch == nil || !slices.Equal(cfg.Elasticsearch.URLs, []string{"http://es1:9200", "http://es2:9200"}) || cfg.Elasticsearch.Password != "s3cret":
		t.Errorf("elasticsearch: %+v", cfg.Elasticsearch)
	case cfg.ManifestVars["CITYMGMT_KEY"] != "k", cfg.Retention.Years != 3, cfg.Log.Format != "json":
		t.Errorf("manifestVars, retention, log: %v %v %v", cfg.ManifestVars, cfg.Retention, cfg.Log)
	}
	if len(used) != 12 || slices.Contains(used, "FENGQIAO_TEST_SOMETHING") {
		t.Errorf("used %v", used)
	}

	for env, want := range map[string]string{
		"FENGQIAO_HOTLINE12345_APIKY=x":              "未知的环境变量 FENGQIAO_HOTLINE12345_APIKY",
		"FENGQIAO_GATEWAY_MAXDEPTH=deep":             "FENGQIAO_GATEWAY_MAXDEPTH 的值有误：应为整数",
		"FENGQIAO_SYNCINTERVAL=30":                   "应为时长",
		"FENGQIAO_COURT_PASSWORD_FILE=/nonexistent/": "FENGQIAO_COURT_PASSWORD_FILE 指向的文件无法读取",
	} {
		if _, _, err := loadConfig(path, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
	if _, _, err := loadConfig(path, []string{"FENGQIAO_COURT_PASSWORD=a", "FENGQIAO_COURT_PASSWORD_FILE=" + secret}); err == nil || !strings.Contains(err.Error(), "只能用其一") {
		t.Errorf("a key and its file both set: %v", err)
	}
	// The environment alone is a config.
	cfg, _, err = loadConfig("", []string{"FENGQIAO_MEDIATION_BASEURL=http://m.example", "FENGQIAO_MEDIATION_APPID=a", "FENGQIAO_MEDIATION_SECRET=s"})
	if err != nil || cfg.Mediation == nil || cfg.Mediation.AppID != "a" || checkConfig(cfg).Err() != nil {
		t.Errorf("a config from the environment alone: %v %+v %v", err, cfg.Mediation, checkConfig(cfg).Err())
	}
}

// TestEveryConfigKeyHasAVariable: each key of the config file, down to the
// upstream settings of each connector, has its FENGQIAO_ variable.
func TestEveryConfigKeyHasAVariable(t *testing.T) {
	var names []string
	for _, k := range envKeys() {
		names = append(names, k.Name)
	}
	for _, want := range []string{"FENGQIAO_ADDR", "FENGQIAO_DATA", "FENGQIAO_SYNCINTERVAL", "FENGQIAO_GATEWAY_REQUESTTIMEOUT",
		"FENGQIAO_HOTLINE12345_APIKEY", "FENGQIAO_HOTLINE12345_UPSTREAM_TIMEOUT", "FENGQIAO_MEDIATION_SECRET",
		"FENGQIAO_POLICE110_CLIENTSECRET", "FENGQIAO_COURT_PASSWORD", "FENGQIAO_ALERTS_WEBHOOKSECRET",
		"FENGQIAO_ELASTICSEARCH_PASSWORD", "FENGQIAO_ELASTICSEARCH_URLS", "FENGQIAO_MANIFESTS", "FENGQIAO_MANIFESTVARS_",
		"FENGQIAO_RISKRULES", "FENGQIAO_LINKRULES", "FENGQIAO_CALENDAR", "FENGQIAO_RETENTION_DROP", "FENGQIAO_LOG_LEVEL"} {
		if !slices.Contains(names, want) {
			t.Errorf("no variable %s among %v", want, names)
		}
	}
}

// TestExampleConfigLoads loads deploy/fengqiao.example.yaml with its secrets
// from files, as deploy/fengqiao.env gives them, and checks it; without the
// secrets the check names the variables that would give them.
func TestExampleConfigLoads(t *testing.T) {
	const example = "../../deploy/fengqiao.example.yaml"
	envFile, err := os.ReadFile("../../deploy/fengqiao.env")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var environ []string
	for line := range strings.Lines(string(envFile)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, path, _ := strings.Cut(line, "=")
		secret := filepath.Join(dir, filepath.Base(path))
		os.WriteFile(secret, []byte("secret-of-"+filepath.Base(path)+"\n"), 0o600)
		environ = append(environ, name+"="+secret)
	}
	cfg, used, err := loadConfig(example, environ)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != len(environ) || cfg.Police110.ClientSecret != "secret-of-police110_clientsecret" || cfg.ManifestVars["PROJECTS_CLIENT_SECRET"] == "" {
		t.Errorf("the secrets did not arrive: %v %+v", used, cfg.Police110)
	}
	if r := checkConfig(cfg); r.Err() != nil {
		t.Errorf("the example config with its secrets: %v", r.Err())
	}
	cfg, _, err = loadConfig(example, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = checkConfig(cfg).Err()
	if err == nil || !strings.Contains(err.Error(), "FENGQIAO_HOTLINE12345_APIKEY_FILE") || !strings.Contains(err.Error(), "CITYMGMT_KEY") {
		t.Errorf("the example config without secrets: %v", err)
	}
}

// TestServeRefusesAConfigThatCannotServe starts the hub on configs that serve
// nothing or name what it cannot run: each exits 1 within seconds with what is
// wrong, before listening; -check says the same and exits 1, and 0 on a good one.
func TestServeRefusesAConfigThatCannotServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(text), 0o600)
		return path
	}
	taken := filepath.Join(dir, "taken") // a manifest named like a built-in connector
	os.Mkdir(taken, 0o700)
	os.WriteFile(filepath.Join(taken, "hotline.yaml"), []byte(strings.Replace(boardVersion("http://b.example", `r["留言主题"]`, dashTime), "name: board", "name: hotline12345", 1)), 0o600)
	for _, c := range []struct {
		name, config string
		env          []string
		want         []string
	}{
		{"empty", "", nil, []string{"没有配置任何连接器"}},
		{"no connector", "addr: 127.0.0.1:0\ndata: " + data + "\n", nil, []string{"没有配置任何连接器"}},
		{"no baseURL", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline12345: {apiKey: k}\n", nil, []string{"hotline12345", "没有 baseURL"}},
		{"no credentials", "addr: 127.0.0.1:0\ndata: " + data + "\ncourt: {baseURL: http://court.example, user: u}\n", nil, []string{"court", "缺少 password", "FENGQIAO_COURT_PASSWORD_FILE"}},
		{"not a URL", "addr: 127.0.0.1:0\ndata: " + data + "\nmediation: {baseURL: jczz.example, appId: a, secret: s}\n", nil, []string{"应以 http:// 或 https:// 开头"}},
		{"unknown key", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline12345:\n  baseURL: http://a.example\n  apikey: k\n", nil, []string{"配置文件", "5", "apikey"}},
		{"unknown connector", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline: {baseURL: http://a.example}\n", nil, []string{"hotline"}},
		{"no manifests", "addr: 127.0.0.1:0\ndata: " + data + "\nmanifests: " + filepath.Join(dir, "none") + "\n", nil, []string{"清单目录", "不存在"}},
		{"manifest vars", "addr: 127.0.0.1:0\ndata: " + data + "\nmanifests: builtin\n", nil, []string{"连接器清单", "CITYMGMT_URL"}},
		{"built-in name", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline12345: {baseURL: http://a.example, apiKey: k}\nmanifests: " + taken + "\n", nil, []string{"hotline.yaml: name hotline12345 已被内置连接器使用"}},
		{"bad log", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline12345: {baseURL: http://a.example, apiKey: k}\nlog: {format: xml}\n", nil, []string{"log.format", "xml"}},
		{"bad address", "addr: localhost\ndata: " + data + "\nhotline12345: {baseURL: http://a.example, apiKey: k}\n", nil, []string{"addr", "主机:端口"}},
		{"unknown variable", "addr: 127.0.0.1:0\ndata: " + data + "\nhotline12345: {baseURL: http://a.example, apiKey: k}\n", []string{"FENGQIAO_HOTLINE_APIKEY=k"}, []string{"未知的环境变量 FENGQIAO_HOTLINE_APIKEY"}},
	} {
		config := write(strings.ReplaceAll(c.name, " ", "-")+".yaml", c.config)
		for _, check := range []bool{false, true} {
			args := []string{"serve", "-config", config}
			if check {
				args = append(args, "-check")
			}
			r := runChild(t, 30*time.Second, c.env, args...)
			said := r.Stderr + r.Stdout
			if r.Code != 1 || r.Took > 10*time.Second {
				t.Errorf("%s (check %v): exit %d after %v: %s", c.name, check, r.Code, r.Took, said)
			}
			for _, want := range c.want {
				if !strings.Contains(said, want) {
					t.Errorf("%s (check %v) said %q, want %q", c.name, check, said, want)
				}
			}
			if strings.Contains(r.Stdout, "已启动") {
				t.Errorf("%s: the hub started", c.name)
			}
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("a refused config made the data directory")
	}

	good := write("good.yaml", fmt.Sprintf("addr: 127.0.0.1:0\ndata: %s\nhotline12345: {baseURL: http://a.example}\nmanifests: builtin\n", data))
	env := []string{"FENGQIAO_HOTLINE12345_APIKEY=k", "FENGQIAO_MANIFESTVARS_CITYMGMT_URL=http://cg.example", "FENGQIAO_MANIFESTVARS_CITYMGMT_KEY=k",
		"FENGQIAO_MANIFESTVARS_SURVEYS_URL=http://hf.example", "FENGQIAO_MANIFESTVARS_SURVEYS_KEY=k", "FENGQIAO_MANIFESTVARS_SURVEYS_SECRET=s",
		"FENGQIAO_MANIFESTVARS_PROJECTS_URL=http://xm.example", "FENGQIAO_MANIFESTVARS_PROJECTS_CLIENT_ID=i", "FENGQIAO_MANIFESTVARS_PROJECTS_CLIENT_SECRET=s"}
	r := runChild(t, 30*time.Second, env, "serve", "-check", "-config", good)
	if r.Code != 0 || !strings.Contains(r.Stdout, "配置无误") || !strings.Contains(r.Stdout, "hotline12345 citymgmt projects surveys（4 个）") ||
		!strings.Contains(r.Stdout, "FENGQIAO_HOTLINE12345_APIKEY") || strings.Contains(r.Stdout, "=k") {
		t.Errorf("-check of a good config: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
