package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// version is the release, set at build time with
// -ldflags "-X main.version=1.2.0"; otherwise the module's version, which the go
// command stamps from the VCS (a pseudo-version), is shown.
var version string

// versionLine is what `fengqiao version` prints: the version, the commit it was
// built from and the Go release.
func versionLine() string {
	v := version
	var commit, at string
	modified := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "开发版"
	}
	parts := []string{}
	if commit != "" {
		c := "提交 " + commit[:min(12, len(commit))]
		if modified {
			c += "（含未提交的修改）"
		}
		parts = append(parts, c)
	}
	if at != "" {
		parts = append(parts, at)
	}
	parts = append(parts, runtime.Version())
	return fmt.Sprintf("fengqiao %s（%s）", v, strings.Join(parts, "，"))
}

// versionString is the version alone, for the log.
func versionString() string {
	line := strings.TrimPrefix(versionLine(), "fengqiao ")
	v, _, _ := strings.Cut(line, "（")
	return v
}

// command is the flags of one subcommand with its Chinese usage: -h, -help or
// --help prints the usage on stdout and ends the program with status 0; a
// mistake prints the usage on stderr and is an error in Chinese.
type command struct {
	*flag.FlagSet
	m     *Main
	use   string // the synopsis, after "fengqiao "
	about string // what it does
}

// command returns the flags of the subcommand name (as in "chains eval").
func (m *Main) command(name, use, about string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the flag package's English stays unprinted
	fs.Usage = func() {}
	return &command{FlagSet: fs, m: m, use: use, about: about}
}

// Parse parses args. On -h it prints the usage on stdout and returns
// flag.ErrHelp, which ends the program with status 0.
func (c *command) Parse(args []string) error {
	err := c.FlagSet.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		c.PrintUsage(c.m.Stdout)
		return flag.ErrHelp
	}
	c.PrintUsage(c.m.Stderr)
	return flagError(err)
}

// Help handles a first argument -h (for a command whose first argument is not a
// flag): it prints the usage and returns flag.ErrHelp, or returns nil.
func (c *command) Help(args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		c.PrintUsage(c.m.Stdout)
		return flag.ErrHelp
	}
	return nil
}

// Fail prints the usage on stderr and returns the mistake.
func (c *command) Fail(format string, args ...any) error {
	c.PrintUsage(c.m.Stderr)
	return fmt.Errorf(format, args...)
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// argNames are the Chinese placeholders of flag values, by the flag package's
// names of their types.
var argNames = map[string]string{"string": "文本", "int": "整数", "uint": "整数", "float": "数", "duration": "时长", "value": "值"}

// PrintUsage writes the usage: the synopsis, what the command does, and each
// flag with its meaning and default.
func (c *command) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "用法：fengqiao %s\n", c.use)
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", c.about)
	}
	first := true
	c.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\n选项：\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		if n, ok := argNames[name]; ok {
			name = n
		}
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		if !slices.Contains([]string{"", "0", "false", "0s", "[]", "map[]"}, f.DefValue) {
			usage += "（默认 " + f.DefValue + "）"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}

// flagErrors translate the flag package's mistakes.
var flagErrors = []struct {
	re   *regexp.Regexp
	text string
}{
	{regexp.MustCompile(`^flag provided but not defined: (\S+)$`), "未知的选项 $1（-h 查看用法）"},
	{regexp.MustCompile(`^flag needs an argument: (\S+)$`), "选项 $1 需要一个值"},
	{regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?(\S+): (.*)$`), "选项 $2 的值 $1 无效：$3"},
	{regexp.MustCompile(`^bad flag syntax: (.*)$`), "选项写法有误：$1"},
}

func flagError(err error) error {
	for _, t := range flagErrors {
		if m := t.re.FindStringSubmatchIndex(err.Error()); m != nil {
			return errors.New(string(t.re.ExpandString(nil, t.text, err.Error(), m)))
		}
	}
	return err
}
