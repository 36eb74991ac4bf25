package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// health is `fengqiao health`: it asks a running hub's /healthz and ends with
// status 0 when the hub is ready, 1 otherwise (the container image's
// HEALTHCHECK, which has no curl).
func (m *Main) health(ctx context.Context, args []string) error {
	fs := m.command("health", "health [-addr 地址] [-timeout 时长]",
		"询问运行中枢纽的 /healthz：就绪（每个连接器已追平）或降级运行（有连接器出错但可应答，列出原因）时退出码 0，否则 1。容器镜像的 HEALTHCHECK 用它。")
	addr := fs.String("addr", "", "枢纽的地址；默认取环境变量 FENGQIAO_ADDR（监听所有地址时问本机），否则 127.0.0.1:8080")
	timeout := fs.Duration("timeout", 5*time.Second, "等待应答的时限")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target := *addr
	if target == "" {
		target = localAddr(os.Getenv(envPrefix + "ADDR"))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("枢纽 %s 无应答：%w", target, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status  string
		Reasons []string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	reasons := ""
	if len(body.Reasons) > 0 {
		reasons = "（" + strings.Join(body.Reasons, "；") + "）"
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("枢纽 %s 未就绪：HTTP %d，状态 %s%s", target, resp.StatusCode, body.Status, reasons)
	}
	fmt.Fprintf(m.Stdout, "枢纽 %s 就绪：%s%s\n", target, body.Status, reasons)
	return nil
}

// localAddr is where this machine reaches a hub listening on addr: loopback for
// an address of every interface; 127.0.0.1:8080, the default, for none.
func localAddr(addr string) string {
	if addr == "" {
		return "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
