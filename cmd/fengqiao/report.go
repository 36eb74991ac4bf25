package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fengqiao"
	"fengqiao/cockpit"
	"fengqiao/gateway"
)

// The monthly bulletin (每月通报) is served by the hub, which holds the data, at
// GET /reports/monthly?org=CODE&month=YYYY-MM as an Excel workbook
// (cockpit.Bulletin), to commanders and analysts for the units of their subtree;
// `fengqiao report monthly` downloads it. docs/operations.md has the figures.

// reportRoles may export the bulletin: those who read the cockpit's figures and
// act on them. Auditors read the audit log (which records every export), grid
// staff their own grid, operators run the hub.
var reportRoles = []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst}

// xlsxType is the media type of an .xlsx workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// addReports serves the monthly bulletin on srv.
func (h *Hub) addReports(srv *gateway.Server) {
	srv.HandleRoles("GET /reports/monthly", "导出每月通报", reportRoles, http.HandlerFunc(h.monthlyReport))
}

// monthlyReport answers the workbook of the unit org (the caller's own when
// omitted) and month, audited as 导出每月通报.
func (h *Hub) monthlyReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := fengqiao.PrincipalFrom(ctx)
	q := r.URL.Query()
	org := strings.TrimSpace(q.Get("org"))
	if org == "" {
		org = p.OrgCode
	}
	unit := h.Tree.Unit(org)
	if unit == nil || !strings.HasPrefix(org, p.OrgCode) {
		gateway.WriteError(w, fengqiao.Errorf(fengqiao.ENOTFOUND, "组织单元不存在或不在您的管辖范围内：%s", org))
		return
	}
	m := strings.TrimSpace(q.Get("month"))
	if m == "" {
		gateway.WriteError(w, fengqiao.Errorf(fengqiao.EINVALID, "请用 month=YYYY-MM 指定通报月份，如 month=2026-10"))
		return
	}
	month, err := cockpit.ParseMonth(m)
	if err != nil {
		gateway.WriteError(w, err)
		return
	}
	b, err := h.figures.Bulletin(ctx, org, month, h.Orders)
	if err != nil {
		gateway.WriteError(w, err)
		return
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		gateway.WriteError(w, err)
		return
	}
	err = h.Audit.Record(ctx, fengqiao.AuditEntry{At: time.Now(), PrincipalID: p.ID, PrincipalName: p.Name, Role: p.Role,
		OrgCode: p.OrgCode, Action: "导出每月通报", Subject: org + " " + month.Format("2006-01"), Remote: p.Remote})
	if err != nil {
		gateway.WriteError(w, err) // nothing leaves the hub unaudited
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", attachment(b.FileName(), fmt.Sprintf("bulletin-%s-%s.xlsx", org, month.Format("2006-01"))))
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	buf.WriteTo(w)
}

// attachment is a Content-Disposition naming the file: an ASCII fallback for
// old clients, and the UTF-8 name encoded as RFC 5987 says (filename*).
func attachment(name, ascii string) string {
	var enc strings.Builder
	for _, c := range []byte(name) {
		if c < 0x80 && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, enc.String())
}

const reportUsage = `用法：
  fengqiao report monthly [-addr A] -token T|@FILE [-org CODE] [-month YYYY-MM] [-o FILE]
      从运行中的枢纽下载每月通报（Excel 工作簿）：110纠纷类警情、法院民商事立案、
      初次反映（初信初访）、12345诉求的分单位数字及环比，调处率、就地化解率、
      初次反映化解率、满意率，本月工单。须指挥长或研判分析员令牌，只能导出本辖区的单位。
`

// reportCommand is `fengqiao report`: reports the running hub makes.
func (m *Main) reportCommand(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, reportUsage)
		return errors.New("请指明报表：fengqiao report monthly …")
	}
	switch args[0] {
	case "monthly":
		return m.reportMonthly(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, reportUsage)
		return nil
	}
	fmt.Fprint(m.Stderr, reportUsage)
	return fmt.Errorf("未知的报表：%s（可选：monthly 每月通报）", args[0])
}

// reportMonthly downloads the monthly bulletin from the running hub, which holds
// the data files, and writes it to -o (the hub's file name by default).
func (m *Main) reportMonthly(ctx context.Context, args []string) error {
	fs := m.command("report monthly", "report monthly [-addr 地址] -token 令牌|@文件 [-org 单位编码] [-month YYYY-MM] [-o 文件]",
		`从运行中的枢纽下载每月通报（Excel 工作簿）：110纠纷类警情、法院民商事立案、
初次反映（初信初访）、12345诉求的分单位数字及环比，调处率、就地化解率、
初次反映化解率、满意率，本月工单。须指挥长或研判分析员令牌，只能导出本辖区的单位。`)
	addr := fs.String("addr", "127.0.0.1:8080", "运行中枢纽的地址")
	token := fs.String("token", "", "指挥长（COMMANDER）或研判分析员（ANALYST）令牌；也可用 @文件 读取")
	org := fs.String("org", "", "单位编码，如 331081（全市）、331081100（泽国镇）；默认为令牌所属单位")
	lastMonth := time.Now().In(fengqiao.CST).AddDate(0, 0, -time.Now().In(fengqiao.CST).Day()).Format("2006-01")
	month := fs.String("month", lastMonth, "通报月份 YYYY-MM（北京时间），默认上个月")
	out := fs.String("o", "", "写入的文件；默认用枢纽给出的文件名（每月通报-单位-月份.xlsx）写在当前目录，- 为标准输出")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("多余的参数：%s", strings.Join(fs.Args(), " "))
	}
	if *token == "" {
		return errors.New("请用 -token 提供指挥长或研判分析员令牌（fengqiao token -role COMMANDER -org 单位编码 签发），也可用 -token @文件")
	}
	tok, err := readToken(*token, "指挥长或研判分析员")
	if err != nil {
		return err
	}
	if _, err := cockpit.ParseMonth(*month); err != nil {
		return errors.New(fengqiao.ErrorMessage(err))
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	query := url.Values{"month": {*month}}
	if *org != "" {
		query.Set("org", *org)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/reports/monthly?"+query.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("无法连接枢纽 %s：%w", *addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("读取枢纽的应答失败：%w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("枢纽拒绝了请求（%s）：%s", resp.Status, refusal(body))
	}
	name := *out
	if name == "" {
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		name = filepath.Base(params["filename"]) // filename* decoded; a bare name, in the current directory
		if name == "" || name == "." || name == "/" {
			name = fmt.Sprintf("每月通报-%s.xlsx", *month)
		}
	}
	if name == "-" {
		_, err := m.Stdout.Write(body)
		return err
	}
	if err := os.WriteFile(name, body, 0o644); err != nil {
		return fmt.Errorf("写入 %s 失败：%w", name, err)
	}
	fmt.Fprintf(m.Stdout, "已写入 %s（%d 字节）\n", name, len(body))
	return nil
}

// refusal is the message of the hub's JSON error, or the body as it came.
func refusal(body []byte) string {
	var r struct{ Errors []struct{ Message string } }
	if err := json.Unmarshal(body, &r); err == nil && len(r.Errors) > 0 {
		return r.Errors[0].Message
	}
	return string(bytes.TrimSpace(body))
}
