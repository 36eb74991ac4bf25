package mediation

import (
	"context"
	"encoding/json"
	"strings"

	"fengqiao"
)

var _ fengqiao.Dispatcher = (*Connector)(nil)

// taskTypes are the ledger's task types.
var taskTypes = map[fengqiao.OrderKind]string{fengqiao.OrderAssign: "交办", fengqiao.OrderSupervise: "督办"}

// urgentLevels are the ledger's urgency codes.
var urgentLevels = map[fengqiao.OrderPriority]string{
	"": "1", fengqiao.PriorityNormal: "1", fengqiao.PriorityUrgent: "2", fengqiao.PriorityCritical: "3",
}

// task is a task of the ledger on the wire.
type task struct {
	TaskID string `json:"taskId"`
	BizNo  string `json:"bizNo"`
}

// Dispatch implements fengqiao.Dispatcher: an order issued on a case becomes a
// task of the ledger (交办 or 督办), addressed to the unit (town, village or grid),
// with the deadline, urgency, instructions and the 解纷码, under the delivery's
// key as its business number (bizNo). The ledger honours no idempotency key: a
// create sent twice makes two tasks. So the create is never retried blindly:
// before each attempt, the first included, the connector asks the ledger for
// tasks under the bizNo and, finding one, returns it as a Duplicate
// (connectors.Upstream.LookupThenCreate). The ledger's refusals (an unknown or
// finished case, a unit it does not know, a bad request) are EINVALID with its
// reason; a ledger that cannot answer, or rejects the hub's signature, is
// EUNAVAILABLE.
func (c *Connector) Dispatch(ctx context.Context, d fengqiao.Dispatch) (fengqiao.Receipt, error) {
	taskType, urgent := taskTypes[d.OrderKind], urgentLevels[d.Priority]
	switch {
	case d.Action != "" && d.Action != fengqiao.ActionIssue:
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s只接收交办和督办，不接收该步骤：%s", c.Title(), d.Action)
	case taskType == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "%s只接收交办和督办，不接收：%q", c.Title(), d.OrderKind)
	case strings.TrimSpace(d.Key) == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "推送缺少编号，无法防止重复交办")
	case strings.TrimSpace(d.SourceID) == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "缺少案件编号")
	case d.Deadline.IsZero():
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "缺少办理时限")
	case urgent == "":
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EINVALID, "紧急程度未知：%q", d.Priority)
	}
	content := d.Instructions
	if d.Department != "" {
		content = "【" + d.Department + "】" + content
	}
	lookup := func(ctx context.Context) (string, error) {
		var r reply[struct {
			List []task `json:"list"`
		}]
		if err := c.write(ctx, "/openapi/mediation/task/query", "查询任务", map[string]string{"bizNo": d.Key}, &r); err != nil {
			return "", err
		}
		for _, t := range r.Data.List {
			if t.BizNo == d.Key && t.TaskID != "" {
				return t.TaskID, nil
			}
		}
		return "", nil
	}
	create := func(ctx context.Context) (string, error) {
		var r reply[task]
		if err := c.write(ctx, "/openapi/mediation/task/create", taskType, map[string]any{
			"bizNo": d.Key, "caseNo": d.SourceID, "taskType": taskType, "undertakeOrgCode": d.OrgCode,
			"urgentLevel": urgent, "deadline": d.Deadline.UnixMilli(), "taskContent": content, "disputeCode": d.OrderCode,
		}, &r); err != nil {
			return "", err
		}
		if r.Data.TaskID == "" {
			return "", fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
		}
		return r.Data.TaskID, nil
	}
	return c.Upstream.LookupThenCreate(ctx, lookup, create)
}

// write sends a request of the task API and reads the ledger's business code:
// 4xxx refuses the request (EINVALID with the ledger's reason), but for a bad
// signature; that and anything else is EUNAVAILABLE.
func (c *Connector) write(ctx context.Context, path, verb string, body, out any) error {
	b, err := c.send(ctx, path, body)
	if err != nil {
		return err
	}
	var head reply[json.RawMessage]
	if err := json.Unmarshal(b, &head); err != nil {
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s返回的数据无法解析", c.Title())
	}
	switch {
	case head.Code == "0000":
		return json.Unmarshal(b, out)
	case head.Code == "4001":
		return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s拒绝了接入凭据：%s（%s）", c.Title(), head.Msg, head.Code)
	case strings.HasPrefix(head.Code, "4"):
		return fengqiao.Errorf(fengqiao.EINVALID, "%s拒绝%s：%s（%s）", c.Title(), verb, head.Msg, head.Code)
	}
	return fengqiao.Errorf(fengqiao.EUNAVAILABLE, "%s%s未成功：%s（%s）", c.Title(), verb, head.Msg, head.Code)
}
