package main

import (
	"fmt"
	"path/filepath"
	"time"

	"fengqiao"
	"fengqiao/gateway"
)

// token issues a bearer token signed with the key in the configured data directory.
func (m *Main) token(args []string) error {
	fs := m.command("token", "token [-config 文件] -org 单位编码 -role 角色 [-name 姓名] [-ttl 时长]",
		"用数据目录中的密钥签发访问令牌（Bearer），打印到标准输出。")
	path := fs.String("config", "fengqiao.yaml", "配置文件路径")
	org := fs.String("org", "", "组织单元编码（县、镇街、村社或网格）")
	role := fs.String("role", string(fengqiao.RoleAnalyst), "角色：COMMANDER、ANALYST、GRID_STAFF、AUDITOR 或 OPERATOR")
	name := fs.String("name", "", "使用者姓名")
	ttl := fs.Duration("ttl", 24*time.Hour, "有效期")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !fengqiao.Role(*role).Valid() {
		return fmt.Errorf("未知的角色：%s", *role)
	}
	cfg, err := LoadConfig(*path)
	if err != nil {
		return err
	}
	key, err := secretKey(filepath.Join(cfg.Data, "token.key"))
	if err != nil {
		return err
	}
	tokens := gateway.NewTokens(key, fengqiao.Wenling())
	t, err := tokens.Issue(fengqiao.Principal{ID: *name, Name: *name, Role: fengqiao.Role(*role), OrgCode: *org}, *ttl)
	if err != nil {
		return fmt.Errorf("%s", fengqiao.ErrorMessage(err))
	}
	fmt.Fprintln(m.Stdout, t)
	return nil
}
