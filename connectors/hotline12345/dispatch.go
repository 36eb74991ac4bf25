package hotline12345

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"fengqiao"
	"fengqiao/connectors"
)

var _ fengqiao.Dispatcher = (*Connector)(nil)

// priorities are the platform's 紧急程度.
var priorities = map[fengqiao.OrderPriority]string{
	"": "一般", fengqiao.PriorityNormal: "一般", fengqiao.PriorityUrgent: "紧急", fengqiao.PriorityCritical: "特急",
}

// dispatchResult is the platform's answer to a dispatch or a supervision.
type dispatchResult struct {
	PDBH string `json:"pdbh"`
}

// Dispatch implements fengqiao.Dispatcher: an order issued on a work order is
// sent to the platform's 派单 API (交办) or 督办 API (督办), addressed to the unit,
// with the deadline, priority, instructions and the 解纷码. The platform honours
// the delivery's key as its X-Request-Id, so the call is retried like any other:
// a repeat is answered 重复请求 with the first dispatch's id, and the receipt says
// Duplicate. The platform's refusals (an unknown or finished work order, a unit
// it does not know) are EINVALID with its reason; a platform that cannot answer,
// or refuses the hub's API key, is EUNAVAILABLE.
func (c *Connector) Dispatch(ctx context.Context, d fengqiao.Dispatch) (fengqiao.Receipt, error) {
	path, verb := "", ""
	switch d.OrderKind {
	case fengqiao.OrderAssign:
		path, verb = "/api/v1/gd/dispatch", "派单"
	case fengqiao.OrderSupervise:
		path, verb = "/api/v1/gd/supervise", "督办"
	}
	priority, known := priorities[d.Priority]
	switch {
	case d.Action != "" && d.Action != fengqiao.ActionIssue:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s只接收交办和督办，不接收该步骤：%s", c.Title(), d.Action)
	case path == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s只接收交办和督办，不接收：%q", c.Title(), d.OrderKind)
	case strings.TrimSpace(d.Key) == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "推送缺少编号，无法防止重复派单")
	case strings.TrimSpace(d.SourceID) == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "缺少工单编号")
	case d.Deadline.IsZero():
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "缺少办理期限")
	case !known:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "紧急程度未知：%q", d.Priority)
	}
	instructions := d.Instructions
	if d.Department != "" {
		instructions = "【" + d.Department + "】" + instructions
	}
	body, err := c.Upstream.Do(ctx, connectors.Call{Method: http.MethodPost, URL: c.cfg.BaseURL + path,
		Header: http.Header{"X-Api-Key": {c.cfg.APIKey}, "X-Request-Id": {d.Key}},
		Body: map[string]string{"gdbh": d.SourceID, "cbdw": d.OrgCode, "blqx": d.Deadline.In(connectors.CST).Format(timeLayout),
			"jjcd": priority, "clyj": instructions, "jfm": d.OrderCode}})
	switch fengqiao.ErrorCode(err) {
	case "":
	case fengqiao.ENOTFOUND:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s拒绝%s：工单不存在：%s", c.Title(), verb, d.SourceID)
	case fengqiao.EUNAUTHORIZED:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s拒绝了接入凭据，请检查API Key", c.Title())
	default:
		return fengqiao.Receipt{}, err
	}
	var r reply[dispatchResult]
	if err := json.Unmarshal(body, &r); err != nil {
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	switch {
	case r.Success && r.Result.PDBH != "":
		return fengqiao.Receipt{Ref: r.Result.PDBH, Duplicate: r.Code == 208}, nil
	case r.Success, r.Code >= 500, r.Code == 401:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s%s未成功：%s（%d）", c.Title(), verb, r.Message, r.Code)
	}
	return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s拒绝%s：%s（%d）", c.Title(), verb, r.Message, r.Code)
}
