package main

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// envPrefix begins every environment variable that sets a config key.
const envPrefix = "FENGQIAO_"

// envFileSuffix after a variable's name reads its value from the file it names
// (a mounted secret), with the trailing line break removed.
const envFileSuffix = "_FILE"

// envExempt are the FENGQIAO_ variables that are not config keys: the tests' own.
var envExempt = []string{"FENGQIAO_TEST_"}

// The environment sets any config key: its name is FENGQIAO_ and the path of
// the key's names in the file (the json tags of Config), upper-cased and joined
// by "_". So addr is FENGQIAO_ADDR, hotline12345.apiKey is
// FENGQIAO_HOTLINE12345_APIKEY, hotline12345.upstream.timeout is
// FENGQIAO_HOTLINE12345_UPSTREAM_TIMEOUT, and manifestVars.CITYMGMT_KEY is
// FENGQIAO_MANIFESTVARS_CITYMGMT_KEY. A list (elasticsearch.urls) is
// comma-separated. NAME_FILE reads the value of NAME from a file. The
// environment overrides the file; a variable under a connector turns the
// connector on. An unknown FENGQIAO_ variable is an error, like an unknown key.

// envKey is one config key the environment can set.
type envKey struct {
	Name string // FENGQIAO_…
	Path []int  // the field's index path from Config
	Map  bool   // a map[string]string: Name is the prefix of its keys' variables
}

// envKeys lists the variables of every key of Config, in the order of its fields.
func envKeys() []envKey {
	var keys []envKey
	var walk func(t reflect.Type, name string, path []int)
	walk = func(t reflect.Type, name string, path []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || tag == "-" {
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			n := name + strings.ToUpper(tag)
			p := append(slices.Clone(path), i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]():
				walk(ft, n+"_", p)
			case ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String && ft.Elem().Kind() == reflect.String:
				keys = append(keys, envKey{Name: n + "_", Path: p, Map: true})
			case settable(ft):
				keys = append(keys, envKey{Name: n, Path: p})
			}
		}
	}
	walk(reflect.TypeFor[Config](), envPrefix, nil)
	return keys
}

// settable reports whether an environment variable's text can set a value of t.
func settable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// applyEnv sets the keys of cfg named by the FENGQIAO_ variables of environ
// ("NAME=value" entries, as os.Environ) and returns the names it used.
func applyEnv(cfg *Config, environ []string) ([]string, error) {
	keys := envKeys()
	var used []string
	var problems []string
	seen := map[string]string{} // config variable name → the variable that set it
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || slices.ContainsFunc(envExempt, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		target, fromFile := name, false
		if base, ok := strings.CutSuffix(name, envFileSuffix); ok {
			target, fromFile = base, true
		}
		k, ok := findEnvKey(keys, target)
		if !ok {
			problems = append(problems, fmt.Sprintf("未知的环境变量 %s（配置项的环境变量见 docs/operations.md「环境变量」）", name))
			continue
		}
		if other, dup := seen[target]; dup {
			problems = append(problems, fmt.Sprintf("环境变量 %s 与 %s 设置同一配置项，只能用其一", other, name))
			continue
		}
		seen[target] = name
		if fromFile {
			b, err := os.ReadFile(value)
			if err != nil {
				problems = append(problems, fmt.Sprintf("环境变量 %s 指向的文件无法读取：%v", name, err))
				continue
			}
			value = strings.TrimRight(string(b), "\r\n")
		}
		if err := setEnvKey(cfg, k, target, value); err != nil {
			problems = append(problems, fmt.Sprintf("环境变量 %s 的值有误：%v", name, err))
			continue
		}
		used = append(used, name)
	}
	if len(problems) > 0 {
		return used, fmt.Errorf("环境变量有误：\n  %s", strings.Join(problems, "\n  "))
	}
	slices.Sort(used)
	return used, nil
}

// findEnvKey finds the key a variable name sets.
func findEnvKey(keys []envKey, name string) (envKey, bool) {
	for _, k := range keys {
		if k.Map && strings.HasPrefix(name, k.Name) && len(name) > len(k.Name) || !k.Map && name == k.Name {
			return k, true
		}
	}
	return envKey{}, false
}

// setEnvKey sets k (named name) in cfg to the text value, allocating the
// connector (or other section) on the way when it is not configured.
func setEnvKey(cfg *Config, k envKey, name, value string) error {
	v := reflect.ValueOf(cfg).Elem()
	for _, i := range k.Path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if k.Map {
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		v.SetMapIndex(reflect.ValueOf(strings.TrimPrefix(name, k.Name)), reflect.ValueOf(value))
		return nil
	}
	return setText(v, value)
}

// setText parses value into v as the config file would.
func setText(v reflect.Value, value string) error {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("应为时长，如 30s、5m、1h：%q", value)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("应为 true 或 false：%q", value)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("应为整数：%q", value)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(value, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("应为非负整数：%q", value)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(value, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("应为数：%q", value)
		}
		v.SetFloat(f)
	case reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items).Convert(v.Type()))
	default:
		return fmt.Errorf("类型 %s 不能由环境变量设置", v.Type())
	}
	return nil
}
