package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// lockName is the lock file a running hub holds in its data directory.
const lockName = "fengqiao.lock"

// dataLock is a hub's exclusive hold on its data directory: an flock on
// <data>/fengqiao.lock, which the kernel releases when the process ends however
// it ends (kill -9 included). The file names the holder, for the next one.
type dataLock struct {
	f *os.File
}

// lockHolder is what the lock file says of the process that holds it.
type lockHolder struct {
	PID     int
	Host    string
	Started string
	Command string
}

// lockData takes the data directory dir for this process, at once: a directory
// another hub holds is an error naming the directory and that process, never a
// wait (the stores inside would otherwise wait on their own locks forever).
func lockData(dir string) (*dataLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("无法创建数据目录的锁文件 %s：%w", path, err)
	}
	if held, err := tryLock(f); err != nil || held {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("无法锁定数据目录 %s：%w", dir, err)
		}
		return nil, lockedError(dir, path)
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid=%d\nhost=%s\nstarted=%s\ncommand=%s\n",
		os.Getpid(), host, time.Now().Format(time.RFC3339), strings.Join(os.Args, " "))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(info), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("无法写入锁文件 %s：%w", path, err)
	}
	return &dataLock{f: f}, nil
}

// lockedError says who holds the data directory dir, as its lock file tells.
func lockedError(dir, path string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	h := readLockHolder(path)
	who := "另一个 fengqiao 进程"
	if h.PID > 0 {
		who = fmt.Sprintf("另一个 fengqiao 进程（pid %d", h.PID)
		if h.Host != "" {
			who += "，主机 " + h.Host
		}
		if h.Started != "" {
			who += "，启动于 " + h.Started
		}
		if h.Command != "" {
			who += "，命令 " + h.Command
		}
		who += "）"
	}
	return fmt.Errorf("数据目录 %s 正被%s使用：同一数据目录只能运行一个枢纽。请先停止该进程，或换一个数据目录（serve 的配置项 data，demo 的 -data）", abs, who)
}

// readLockHolder reads the holder's lines from a lock file; a file being
// written at that instant may say nothing yet.
func readLockHolder(path string) lockHolder {
	var h lockHolder
	b, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	for line := range strings.Lines(string(b)) {
		key, value, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch key {
		case "pid":
			h.PID, _ = strconv.Atoi(value)
		case "host":
			h.Host = value
		case "started":
			h.Started = value
		case "command":
			h.Command = value
		}
	}
	return h
}

// Close releases the directory. The file stays, naming the last holder.
func (l *dataLock) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// probeData fails when another process holds the data directory dir, and
// otherwise leaves it free: a check before long work that precedes OpenHub.
func probeData(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	l, err := lockData(dir)
	if err != nil {
		return err
	}
	return l.Close()
}

// dataHolder tells whether a process holds the data directory dir, and which,
// without taking it or writing anything.
func dataHolder(dir string) (lockHolder, bool) {
	path := filepath.Join(dir, lockName)
	f, err := os.Open(path)
	if err != nil {
		return lockHolder{}, false
	}
	defer f.Close() // releases the probe's own lock, if it got it
	if held, err := tryLock(f); err != nil || !held {
		return lockHolder{}, false
	}
	return readLockHolder(path), true
}
