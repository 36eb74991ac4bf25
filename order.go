package fengqiao

import (
	"context"
	"strings"
	"time"
)

// An Order is a piece of work the hub sends down the tree (交办) or presses on
// (督办): issued by a unit on a matter in its subtree, addressed to a unit strictly
// below it, fed back on by the addressee, reviewed and closed (销号) only by the
// issuer. An addressee passes work further down by issuing a child order on the
// same matter; every order of one matter shares the matter's Code (解纷码).
type Order struct {
	ID       string // this order, e.g. "ORD-000123"
	Code     string // the matter's 解纷码, shared by the orders, events and chain of the matter
	ParentID string // the order this one passes down, "" for a first order
	Kind     OrderKind
	Subject  OrderSubject
	// IssuerOrg is the unit that issued the order and alone reviews and closes it;
	// AddresseeOrg is the unit it is addressed to, strictly below the issuer.
	IssuerOrg    string
	AddresseeOrg string
	Department   string // an optional department of the addressee (e.g. 司法所)
	Issuer       string // the principal who issued it
	Priority     OrderPriority
	Listed       ListedLevel // 挂牌督办 level, "" when not listed
	Instructions string
	Deadline     time.Time // end of the last working day allowed
	State        OrderState
	// Escalated is set when the order went past its deadline open and was raised
	// to the addressee's parent.
	EscalatedTo string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    *time.Time
	Steps       []OrderStep
	Deliveries  []Delivery
}

// OrderKind is 交办 or 督办.
type OrderKind string

const (
	OrderAssign    OrderKind = "ASSIGN"    // 交办
	OrderSupervise OrderKind = "SUPERVISE" // 督办
)

// OrderSubject is what an order is about: an event, a chain or a case cluster.
type OrderSubject struct {
	Kind OrderSubjectKind
	ID   string
}

// OrderSubjectKind names what an order is about.
type OrderSubjectKind string

const (
	SubjectEvent   OrderSubjectKind = "EVENT"
	SubjectChain   OrderSubjectKind = "CHAIN"
	SubjectCluster OrderSubjectKind = "CLUSTER"
)

// OrderPriority is how urgent an order is.
type OrderPriority string

const (
	PriorityNormal   OrderPriority = "NORMAL"   // 一般
	PriorityUrgent   OrderPriority = "URGENT"   // 紧急
	PriorityCritical OrderPriority = "CRITICAL" // 特急
)

// ListedLevel is the level of a 挂牌督办 listing.
type ListedLevel string

const (
	ListedCounty ListedLevel = "COUNTY" // 县级挂牌
	ListedTown   ListedLevel = "TOWN"   // 镇级挂牌
)

// OrderState is where an order is in the loop 交办 → 反馈 → 审核 → 销号.
type OrderState string

const (
	OrderOpen     OrderState = "OPEN"     // 办理中: waiting for the addressee's feedback
	OrderFedBack  OrderState = "FED_BACK" // 已反馈: waiting for the issuer's review
	OrderReturned OrderState = "RETURNED" // 退回重办: the issuer returned the feedback
	OrderAccepted OrderState = "ACCEPTED" // 审核通过: waiting to be closed
	OrderClosed   OrderState = "CLOSED"   // 已销号
)

// OrderStep is one entry of an order's timeline.
type OrderStep struct {
	Seq       int
	Action    OrderAction
	At        time.Time
	By        string // principal, or the connector for upstream steps
	Org       string // the unit that acted
	Note      string
	Links     []string // attachments as links
	RequestID string   // the client's request id, for idempotent retries
}

// OrderAction names a step of an order.
type OrderAction string

const (
	ActionIssue     OrderAction = "ISSUE"     // 交办/督办
	ActionPassDown  OrderAction = "PASS_DOWN" // 转办: a child order was issued
	ActionFeedback  OrderAction = "FEEDBACK"  // 反馈（进展、整改）
	ActionReturn    OrderAction = "RETURN"    // 退回
	ActionAccept    OrderAction = "ACCEPT"    // 审核通过
	ActionClose     OrderAction = "CLOSE"     // 销号
	ActionEscalate  OrderAction = "ESCALATE"  // 逾期升级
	ActionDelivered OrderAction = "DELIVERED" // 已推送至上游系统
	ActionUpstream  OrderAction = "UPSTREAM"  // 上游系统的办理进展
)

// Delivery is an order's delivery to the upstream system that owns the work.
type Delivery struct {
	Connector string
	State     DeliveryState
	Attempts  int
	LastError string // the upstream's reason, in Chinese, while it keeps failing
	EventID   string // the event of the upstream the work was delivered for
	Ref       string // the upstream's own id for the delivered work
	At        time.Time
	// Upstream is the upstream's last word on the work, as its sync read it
	// (status and outcome), so that only changes become steps.
	Upstream string `json:",omitempty"`
}

// Concerns reports whether the order's issuer, addressee or escalation unit lies
// in the subtree of org: who may see it, and whom its steps are news to.
func (o *Order) Concerns(org string) bool {
	for _, code := range []string{o.IssuerOrg, o.AddresseeOrg, o.EscalatedTo} {
		if code != "" && strings.HasPrefix(code, org) {
			return true
		}
	}
	return false
}

// Open reports whether the order waits for work of the addressee.
func (o *Order) Open() bool { return o.State == OrderOpen || o.State == OrderReturned }

// Overdue reports whether the order is past its deadline at now without the
// addressee's feedback.
func (o *Order) Overdue(now time.Time) bool { return o.Open() && now.After(o.Deadline) }

// OnTime reports whether the feedback the issuer accepted came by the deadline.
func (o *Order) OnTime() bool {
	var fedBack time.Time
	for _, s := range o.Steps {
		switch s.Action {
		case ActionFeedback:
			fedBack = s.At
		case ActionAccept:
			return !fedBack.IsZero() && !fedBack.After(o.Deadline)
		}
	}
	return false
}

// DeliveryState is how far a delivery has come.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "PENDING"   // 待推送
	DeliveryDelivered DeliveryState = "DELIVERED" // 已推送
	DeliveryFailed    DeliveryState = "FAILED"    // 推送失败（上游拒绝，不再重试）
)

// Dispatch is one piece of work delivered to an upstream system.
type Dispatch struct {
	// Key is unique per delivery and the same on every retry of it: upstreams
	// that honour idempotency keys get it as one; the others are asked for it
	// before a retry.
	Key          string
	Action       OrderAction // ActionIssue (交办), or a later step the upstream takes
	OrderCode    string      // the matter's 解纷码
	OrderKind    OrderKind
	SourceID     string // the event's id in the upstream
	OrgCode      string // the addressee unit
	Department   string
	Deadline     time.Time
	Priority     OrderPriority
	Instructions string
}

// Receipt is an upstream's acknowledgement of a Dispatch.
type Receipt struct {
	Ref       string // the upstream's own id for the work
	Duplicate bool   // the upstream had it already (a retry of a delivered dispatch)
}

// Dispatcher is implemented by connectors whose upstream accepts work. Errors:
// EUNAVAILABLE when the upstream cannot answer now (the outbox retries), EINVALID
// when it refused the dispatch (the outbox stops and shows the reason).
type Dispatcher interface {
	Connector
	Dispatch(ctx context.Context, d Dispatch) (Receipt, error)
}
