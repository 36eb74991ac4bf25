package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogHandler is the log's handler on w for cfg: text (key=value) or JSON
// lines, from the level named on.
func newLogHandler(w io.Writer, cfg LogConfig) (slog.Handler, error) {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "", "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("日志级别 log.level %q 无效：可选 debug、info、warn、error", cfg.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Format {
	case "", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("日志格式 log.format %q 无效：可选 text、json", cfg.Format)
}
