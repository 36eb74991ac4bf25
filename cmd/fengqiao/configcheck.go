package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fengqiao"
	"fengqiao/chains"
	"fengqiao/connectors/manifest"
	"fengqiao/connectors/manifests"
	"fengqiao/risk"
)

// configReport is what checking a config found: a line for each part, and the
// problems that keep a hub from serving it.
type configReport struct {
	Lines    [][2]string // part, what was found
	Problems []string
}

func (r *configReport) found(part, format string, args ...any) {
	r.Lines = append(r.Lines, [2]string{part, fmt.Sprintf(format, args...)})
}

func (r *configReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Err is nil for a config a hub can serve, else every problem at once.
func (r *configReport) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "配置有 %d 处问题，枢纽不启动：", len(r.Problems))
	for _, p := range r.Problems {
		b.WriteString("\n  - " + strings.ReplaceAll(strings.TrimSpace(p), "\n", "\n      "))
	}
	return errors.New(b.String())
}

// builtinConnector is a connector with Go code of its own, as configured.
type builtinConnector struct {
	name, title string
	baseURL     string
	required    [][2]string // key, value: credentials that must be set
}

// builtinConnectors are the connectors cfg configures, in the hub's order.
func builtinConnectors(cfg Config) []builtinConnector {
	var out []builtinConnector
	if c := cfg.Hotline12345; c != nil {
		out = append(out, builtinConnector{"hotline12345", "12345热线", c.BaseURL, [][2]string{{"apiKey", c.APIKey}}})
	}
	if c := cfg.Mediation; c != nil {
		out = append(out, builtinConnector{"mediation", "矛盾纠纷调处台账", c.BaseURL, [][2]string{{"appId", c.AppID}, {"secret", c.Secret}}})
	}
	if c := cfg.Police110; c != nil {
		out = append(out, builtinConnector{"police110", "110警情", c.BaseURL, [][2]string{{"clientId", c.ClientID}, {"clientSecret", c.ClientSecret}}})
	}
	if c := cfg.Court; c != nil {
		out = append(out, builtinConnector{"court", "法院立案", c.BaseURL, [][2]string{{"user", c.User}, {"password", c.Password}}})
	}
	if c := cfg.Alerts; c != nil {
		out = append(out, builtinConnector{"alerts", "感知平台告警", c.BaseURL, [][2]string{{"apiKey", c.APIKey}, {"webhookSecret", c.WebhookSecret}}})
	}
	return out
}

// checkConfig checks everything a hub would start from, without starting one or
// touching the data directory: the listen address, every connector (its
// address and credentials), the manifests it names, the rules and calendar
// files, Elasticsearch and the log. A config that serves nothing — no
// connector, and no Elasticsearch index to read — is a problem.
func checkConfig(cfg Config) *configReport {
	cfg = cfg.withDefaults()
	r := &configReport{}

	if host, port, err := net.SplitHostPort(cfg.Addr); err != nil {
		r.problem("addr %q 不是“主机:端口”：%v", cfg.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.problem("addr %q 的端口无效", cfg.Addr)
	} else if host == "" || host == "0.0.0.0" || host == "::" {
		r.found("监听地址", "%s（所有网络接口）", cfg.Addr)
	} else {
		r.found("监听地址", "%s", cfg.Addr)
	}

	data, _ := filepath.Abs(cfg.Data)
	switch st, err := os.Stat(data); {
	case err == nil && !st.IsDir():
		r.problem("data %s 不是目录", data)
	case err == nil:
		state := "已有数据"
		if h, held := dataHolder(data); held {
			state = fmt.Sprintf("正被 pid %d（主机 %s）的枢纽使用", h.PID, h.Host)
		}
		r.found("数据目录", "%s（%s）", data, state)
	default:
		r.found("数据目录", "%s（尚不存在，启动时创建）", data)
	}

	if es := cfg.Elasticsearch; es != nil {
		if len(es.URLs) == 0 {
			r.problem("elasticsearch.urls 为空：请列出集群节点的地址")
		}
		for _, u := range es.URLs {
			if err := checkURL(u); err != nil {
				r.problem("elasticsearch.urls 中的 %q %v", u, err)
			}
		}
		r.found("索引", "Elasticsearch %s（%d 个节点）", strings.Join(es.URLs, " "), len(es.URLs))
	} else {
		r.found("索引", "内嵌 Bleve（%s）", filepath.Join(data, "events.bleve"))
	}

	var names []string
	for _, c := range builtinConnectors(cfg) {
		names = append(names, c.name)
		if c.baseURL == "" {
			r.problem("连接器 %s（%s）没有 baseURL：无法连接上游，请填写上游接口地址，或删去该连接器", c.name, c.title)
		} else if err := checkURL(c.baseURL); err != nil {
			r.problem("连接器 %s 的 baseURL %q %v", c.name, c.baseURL, err)
		}
		for _, kv := range c.required {
			if kv[1] == "" {
				r.problem("连接器 %s（%s）缺少 %s：上游会拒绝无凭据的请求（可用环境变量 %s 或 %s_FILE 提供）",
					c.name, c.title, kv[0], envPrefix+strings.ToUpper(c.name+"_"+kv[0]), envPrefix+strings.ToUpper(c.name+"_"+kv[0]))
			}
		}
	}
	manifestNames, err := checkManifests(cfg, names)
	if err != nil {
		r.problem("%v", err)
	}
	names = append(names, manifestNames...)
	switch {
	case len(names) > 0:
		r.found("连接器", "%s（%d 个）", strings.Join(names, " "), len(names))
	case cfg.Elasticsearch != nil:
		r.found("连接器", "无：只读副本，服务 Elasticsearch 中已有的事件")
	case err == nil:
		r.problem("没有配置任何连接器，枢纽无数据可服务：请配置 hotline12345、mediation、police110、court、alerts 之一，" +
			"或用 manifests 指定接入清单（builtin 为随附的清单）；只读副本须配置 elasticsearch")
	}

	if cfg.RiskRules == "" {
		r.found("风险规则", "内置")
	} else if _, err := risk.New(risk.DefaultTaxonomy(), cfg.RiskRules); err != nil {
		r.problem("风险规则 riskRules %s 有误：%v", cfg.RiskRules, err)
	} else {
		r.found("风险规则", "%s", cfg.RiskRules)
	}
	if cfg.LinkRules == "" {
		r.found("串联规则", "内置")
	} else if b, err := os.ReadFile(cfg.LinkRules); err != nil {
		r.problem("串联规则 linkRules 无法读取：%v", err)
	} else if _, err := chains.ParseRules(b); err != nil {
		r.problem("串联规则 linkRules %s 有误：%v", cfg.LinkRules, err)
	} else {
		r.found("串联规则", "%s", cfg.LinkRules)
	}
	if cfg.Calendar == "" {
		r.found("工作日历", "内置官方日历")
	} else if err := checkCalendar(cfg.Calendar); err != nil {
		r.problem("%v", err)
	} else {
		r.found("工作日历", "%s 叠加内置官方日历", cfg.Calendar)
	}
	if cfg.Retention.Years > 0 {
		what := "移入冷索引 cold.bleve"
		if cfg.Retention.Drop {
			what = "删除"
		}
		r.found("保留期", "%d 年，更早的事件%s", cfg.Retention.Years, what)
	}
	if _, err := newLogHandler(nil, cfg.Log); err != nil {
		r.problem("%v", err)
	} else {
		r.found("日志", "格式 %s，级别 %s", cmp.Or(cfg.Log.Format, "text"), cmp.Or(cfg.Log.Level, "info"))
	}
	return r
}

// checkURL says what is wrong with an upstream's address, if anything.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("无法解析：%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("应以 http:// 或 https:// 开头")
	case u.Host == "":
		return fmt.Errorf("缺少主机名")
	}
	return nil
}

// checkManifests loads the configured manifests, as the hub would beside the
// builtin connectors, and returns their names.
func checkManifests(cfg Config, builtin []string) ([]string, error) {
	var fsys fs.FS
	switch cfg.Manifests {
	case "":
		return nil, nil
	case "builtin":
		fsys = manifests.FS
	default:
		st, err := os.Stat(cfg.Manifests)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("清单目录 manifests %s 不存在或不是目录", cfg.Manifests)
		}
		fsys = os.DirFS(cfg.Manifests)
	}
	ms, err := manifest.Load(fsys, cfg.ManifestVars, builtin...)
	if err != nil {
		return nil, fmt.Errorf("连接器清单（%s）有误：\n%v", cfg.Manifests, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("清单目录 manifests %s 中没有 *.yaml 清单", cfg.Manifests)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names, nil
}

// checkCalendar loads a working-day calendar file over the official one.
func checkCalendar(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("工作日历 calendar 无法打开：%v", err)
	}
	defer f.Close()
	extra, err := fengqiao.LoadCalendar(f)
	if err == nil {
		_, err = fengqiao.OfficialCalendar().Override(extra)
	}
	if err != nil {
		return fmt.Errorf("工作日历 calendar %s 有误：%v", path, err)
	}
	return nil
}
