// Package orders closes the loop: orders (交办/督办) go down the org tree, their
// feedback comes back, the issuer reviews and closes them (销号), and the work is
// delivered to the upstream systems that own it through a durable outbox. Every
// step is one bbolt transaction holding the order, its idempotency record and its
// deliveries, so a crash loses or repeats nothing.
package orders

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

var (
	bucketOrders   = []byte("orders")   // order id → Order
	bucketMatters  = []byte("matters")  // subject key → matter code; code → order ids
	bucketRequests = []byte("requests") // principal + request id → order id
	bucketOutbox   = []byte("outbox")   // sequence → outboxItem
	bucketMeta     = []byte("meta")
)

// Subjects finds the events an order is about.
type Subjects interface {
	// Events returns the events of a subject (for a chain or cluster, its members)
	// and the chain they belong to ("" if none), or ENOTFOUND.
	Events(ctx context.Context, s fengqiao.OrderSubject) (events []*fengqiao.Event, chainID string, err error)
}

// Config is what a Service needs besides its file.
type Config struct {
	Tree     *fengqiao.OrgTree
	Calendar *fengqiao.Calendar
	Subjects Subjects
	Audit    fengqiao.AuditLog
	// Dispatchers are the connectors whose upstreams accept work.
	Dispatchers []fengqiao.Dispatcher
	Log         *slog.Logger
	Now         func() time.Time // default time.Now
}

// Service keeps the orders.
type Service struct {
	Config
	db *bolt.DB

	dispatchers map[string]fengqiao.Dispatcher // by connector name
	byOrigin    map[string]fengqiao.Dispatcher // by fengqiao.OriginOf
	wake        chan struct{}

	mu       sync.Mutex
	watched  map[string][]string // event id → orders delivered for it, for Observe
	watchers map[chan Notice]bool
}

// Notice tells a subscriber an order reached a unit, changed, or escalated.
type Notice struct {
	Order  *fengqiao.Order
	Action fengqiao.OrderAction
}

// Open opens (or creates) the orders file at path.
func Open(path string, cfg Config) (*Service, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("工单库 %s 无法打开：%w", path, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{Config: cfg, db: db, dispatchers: map[string]fengqiao.Dispatcher{}, byOrigin: map[string]fengqiao.Dispatcher{},
		wake: make(chan struct{}, 1), watched: map[string][]string{}, watchers: map[chan Notice]bool{}}
	for _, d := range cfg.Dispatchers {
		s.dispatchers[d.Name()] = d
		if _, ok := s.byOrigin[fengqiao.OriginOf(d)]; !ok {
			s.byOrigin[fengqiao.OriginOf(d)] = d
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOrders, bucketMatters, bucketRequests, bucketOutbox, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketOrders).ForEach(func(_, v []byte) error {
			var o fengqiao.Order
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			s.watch(&o)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the file.
func (s *Service) Close() error { return s.db.Close() }

// IssueInput is what a commander or analyst gives to open an order.
type IssueInput struct {
	RequestID    string
	Subject      fengqiao.OrderSubject
	Kind         fengqiao.OrderKind
	AddresseeOrg string
	Department   string
	// WorkingDays sets the deadline on the official calendar; Deadline sets it
	// directly (the end of that day, China time). One of them is required.
	WorkingDays  int
	Deadline     *time.Time
	Priority     fengqiao.OrderPriority
	Listed       fengqiao.ListedLevel
	Instructions string
}

// Issue opens an order: by a commander or analyst, on a subject in their subtree,
// to a unit strictly below theirs. The same request id returns the same order.
func (s *Service) Issue(ctx context.Context, in IssueInput) (*fengqiao.Order, error) {
	p, err := s.actor(ctx, in.RequestID, fengqiao.RoleCommander, fengqiao.RoleAnalyst)
	if err != nil {
		return nil, err
	}
	if done, err := s.replayed(p, in.RequestID); done != nil || err != nil {
		return done, err
	}
	events, chainID, err := s.subject(ctx, p, in.Subject)
	if err != nil {
		return nil, err
	}
	o := &fengqiao.Order{Kind: in.Kind, Subject: in.Subject, IssuerOrg: p.OrgCode, Issuer: p.ID}
	if err := s.fill(o, p.OrgCode, in); err != nil {
		return nil, err
	}
	return s.create(ctx, p, in.RequestID, o, "", events, chainID)
}

// PassDownInput is what an addressee gives to pass an order further down (转办).
type PassDownInput struct {
	RequestID    string
	OrderID      string
	AddresseeOrg string
	Department   string
	WorkingDays  int
	Deadline     *time.Time
	Instructions string
}

// PassDown issues a child order on the same matter, by the addressee unit of
// orderID to a unit strictly below it, due no later than the order itself.
func (s *Service) PassDown(ctx context.Context, in PassDownInput) (*fengqiao.Order, error) {
	p, err := s.actor(ctx, in.RequestID, fengqiao.RoleCommander, fengqiao.RoleAnalyst)
	if err != nil {
		return nil, err
	}
	if done, err := s.replayed(p, in.RequestID); done != nil || err != nil {
		return done, err
	}
	parent, err := s.Order(ctx, in.OrderID)
	if err != nil {
		return nil, err
	}
	if parent.AddresseeOrg != p.OrgCode {
		return nil, fengqiao.Errorf(fengqiao.EFORBIDDEN, "只有受理单位（%s）可以转办此工单", s.unitName(parent.AddresseeOrg))
	}
	if !parent.Open() {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "工单当前状态为%s，不能转办", stateName(parent.State))
	}
	o := &fengqiao.Order{Kind: parent.Kind, Subject: parent.Subject, ParentID: parent.ID, IssuerOrg: p.OrgCode, Issuer: p.ID, Listed: parent.Listed}
	err = s.fill(o, p.OrgCode, IssueInput{Kind: parent.Kind, AddresseeOrg: in.AddresseeOrg, Department: in.Department, WorkingDays: in.WorkingDays,
		Deadline: in.Deadline, Priority: parent.Priority, Listed: parent.Listed, Instructions: in.Instructions})
	if err != nil {
		return nil, err
	}
	if o.Deadline.After(parent.Deadline) {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "转办期限（%s）不能晚于原工单期限（%s）", day(o.Deadline), day(parent.Deadline))
	}
	return s.create(ctx, p, in.RequestID, o, parent.ID, nil, "")
}

// fill checks and sets the addressee, deadline, priority and listing of o.
func (s *Service) fill(o *fengqiao.Order, issuerOrg string, in IssueInput) error {
	switch in.Kind {
	case fengqiao.OrderAssign, fengqiao.OrderSupervise:
	default:
		return fengqiao.Errorf(fengqiao.EINVALID, "工单类型未知：%q（交办 ASSIGN 或督办 SUPERVISE）", in.Kind)
	}
	to := s.Tree.Unit(in.AddresseeOrg)
	switch {
	case to == nil:
		return fengqiao.Errorf(fengqiao.EINVALID, "受理单位不存在：%q", in.AddresseeOrg)
	case to.Code == issuerOrg || !strings.HasPrefix(to.Code, issuerOrg):
		return fengqiao.Errorf(fengqiao.EINVALID, "受理单位须在本单位（%s）之下：%s 不是下级单位", s.unitName(issuerOrg), to.FullName())
	}
	now := s.Now()
	switch {
	case in.Deadline != nil:
		d := in.Deadline.In(fengqiao.CST)
		o.Deadline = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 999999999, fengqiao.CST)
		if o.Deadline.Before(now) {
			return fengqiao.Errorf(fengqiao.EINVALID, "办理期限 %s 已过", day(o.Deadline))
		}
	case in.WorkingDays > 0 && in.WorkingDays <= 365:
		o.Deadline = s.Calendar.AddWorkingDays(now, in.WorkingDays)
		if w := s.Calendar.CoverageWarning(now, o.Deadline); w != "" {
			s.Log.Warn(w)
		}
	default:
		return fengqiao.Errorf(fengqiao.EINVALID, "请给出办理期限：工作日数（1–365）或截止日期")
	}
	switch in.Priority {
	case "":
		in.Priority = fengqiao.PriorityNormal
	case fengqiao.PriorityNormal, fengqiao.PriorityUrgent, fengqiao.PriorityCritical:
	default:
		return fengqiao.Errorf(fengqiao.EINVALID, "紧急程度未知：%q", in.Priority)
	}
	switch in.Listed {
	case "", fengqiao.ListedCounty, fengqiao.ListedTown:
	default:
		return fengqiao.Errorf(fengqiao.EINVALID, "挂牌级别未知：%q", in.Listed)
	}
	if n := len([]rune(in.Instructions)); n > 2000 {
		return fengqiao.Errorf(fengqiao.EINVALID, "办理要求过长（%d 字，最多 2000 字）", n)
	}
	o.AddresseeOrg, o.Department, o.Priority, o.Listed, o.Instructions = to.Code, in.Department, in.Priority, in.Listed, in.Instructions
	return nil
}

// create stores a new order on its matter (the subject's, or a new one), with
// its deliveries in the outbox, in one transaction.
func (s *Service) create(ctx context.Context, p *fengqiao.Principal, requestID string, o *fengqiao.Order, parentID string, events []*fengqiao.Event, chainID string) (*fengqiao.Order, error) {
	now := s.Now()
	o.State, o.CreatedAt, o.UpdatedAt = fengqiao.OrderOpen, now, now
	o.Steps = []fengqiao.OrderStep{{Seq: 1, Action: fengqiao.ActionIssue, At: now, By: p.ID, Org: p.OrgCode, Note: o.Instructions, RequestID: requestID}}
	var items []outboxItem
	if parentID == "" {
		items = s.deliveries(o, events)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if parentID != "" {
			parent, err := getOrder(tx, parentID)
			if err != nil {
				return err
			}
			o.Code = parent.Code
			parent.Steps = append(parent.Steps, fengqiao.OrderStep{Seq: len(parent.Steps) + 1, Action: fengqiao.ActionPassDown, At: now, By: p.ID, Org: p.OrgCode,
				Note: "转办至" + s.unitName(o.AddresseeOrg)})
			parent.UpdatedAt = now
			if err := putOrder(tx, parent); err != nil {
				return err
			}
		} else if o.Code = matterOf(tx, o.Subject, chainID); o.Code == "" {
			o.Code = newCode(tx, now)
		}
		o.ID = fmt.Sprintf("%s-%d", o.Code, len(ordersOf(tx, o.Code))+1)
		keys := []string{subjectKey(o.Subject)}
		if chainID != "" {
			keys = append(keys, subjectKey(fengqiao.OrderSubject{Kind: fengqiao.SubjectChain, ID: chainID}))
		}
		for _, e := range events {
			keys = append(keys, subjectKey(fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: e.ID}))
		}
		m := tx.Bucket(bucketMatters)
		for _, k := range keys {
			if err := m.Put([]byte(k), []byte(o.Code)); err != nil {
				return err
			}
		}
		if err := m.Put([]byte("code\x00"+o.Code+"\x00"+o.ID), nil); err != nil {
			return err
		}
		for i := range items {
			items[i].OrderID = o.ID
			items[i].Dispatch.Key = fmt.Sprintf("%s-%d", o.ID, i+1)
			items[i].Dispatch.OrderCode = o.Code
			if err := putOutbox(tx, items[i]); err != nil {
				return err
			}
		}
		if err := putOrder(tx, o); err != nil {
			return err
		}
		return remember(tx, p, requestID, o.ID)
	})
	if err != nil {
		return nil, err
	}
	s.watch(o)
	action := fengqiao.ActionIssue
	if parentID != "" {
		action = fengqiao.ActionPassDown
	}
	s.after(ctx, p, o, action)
	if len(items) > 0 {
		s.poke() // after the notice of the order, which its delivery's follows
	}
	return o, nil
}

// deliveries are the outbox items of a new order: one for each event of its
// subject whose upstream accepts work, the newest event of each upstream.
func (s *Service) deliveries(o *fengqiao.Order, events []*fengqiao.Event) []outboxItem {
	newest := map[string]*fengqiao.Event{}
	for _, e := range events {
		d := s.byOrigin[e.Origin()]
		if d == nil {
			continue
		}
		if old := newest[d.Name()]; old == nil || e.ReportedAt.After(old.ReportedAt) {
			newest[d.Name()] = e
		}
	}
	var items []outboxItem
	for _, name := range slices.Sorted(maps.Keys(newest)) {
		e := newest[name]
		// The event as it stands when the order is issued is no news: an upstream
		// that had closed the work before does not feed back by itself.
		o.Deliveries = append(o.Deliveries, fengqiao.Delivery{Connector: name, State: fengqiao.DeliveryPending, EventID: e.ID, Upstream: upstreamWord(e)})
		items = append(items, outboxItem{Connector: name, Dispatch: fengqiao.Dispatch{Action: fengqiao.ActionIssue, OrderKind: o.Kind,
			SourceID: e.SourceID, OrgCode: o.AddresseeOrg, Department: o.Department, Deadline: o.Deadline, Priority: o.Priority, Instructions: o.Instructions}})
	}
	return items
}

// StepInput is a feedback, review or closing step on an order.
type StepInput struct {
	RequestID string
	OrderID   string
	Note      string
	Links     []string
}

// Feedback records the addressee's progress or rectification (反馈); the order
// then waits for the issuer's review.
func (s *Service) Feedback(ctx context.Context, in StepInput) (*fengqiao.Order, error) {
	return s.step(ctx, in, fengqiao.ActionFeedback, []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst, fengqiao.RoleGridStaff},
		func(o *fengqiao.Order, p *fengqiao.Principal) error {
			if o.AddresseeOrg != p.OrgCode {
				return fengqiao.Errorf(fengqiao.EFORBIDDEN, "只有受理单位（%s）可以反馈此工单", s.unitName(o.AddresseeOrg))
			}
			if !o.Open() {
				return fengqiao.Errorf(fengqiao.EINVALID, "工单当前状态为%s，不能反馈", stateName(o.State))
			}
			if strings.TrimSpace(in.Note) == "" {
				return fengqiao.Errorf(fengqiao.EINVALID, "请填写反馈内容")
			}
			o.State = fengqiao.OrderFedBack
			return nil
		})
}

// Return sends the feedback back to the addressee with the issuer's reasons (退回).
func (s *Service) Return(ctx context.Context, in StepInput) (*fengqiao.Order, error) {
	return s.review(ctx, in, fengqiao.ActionReturn, fengqiao.OrderReturned)
}

// Accept approves the addressee's feedback (审核通过).
func (s *Service) Accept(ctx context.Context, in StepInput) (*fengqiao.Order, error) {
	return s.review(ctx, in, fengqiao.ActionAccept, fengqiao.OrderAccepted)
}

func (s *Service) review(ctx context.Context, in StepInput, action fengqiao.OrderAction, to fengqiao.OrderState) (*fengqiao.Order, error) {
	return s.step(ctx, in, action, []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst}, func(o *fengqiao.Order, p *fengqiao.Principal) error {
		if err := s.byIssuer(o, p, "审核"); err != nil {
			return err
		}
		if o.State != fengqiao.OrderFedBack {
			return fengqiao.Errorf(fengqiao.EINVALID, "工单当前状态为%s，尚无待审核的反馈", stateName(o.State))
		}
		if action == fengqiao.ActionReturn && strings.TrimSpace(in.Note) == "" {
			return fengqiao.Errorf(fengqiao.EINVALID, "退回请写明理由")
		}
		o.State = to
		return nil
	})
}

// CloseOrder closes an accepted order (销号): only its issuer, once every order
// it was passed down in is closed.
func (s *Service) CloseOrder(ctx context.Context, in StepInput) (*fengqiao.Order, error) {
	var children []*fengqiao.Order
	if o, err := s.Order(ctx, in.OrderID); err == nil {
		children, _ = s.Matter(ctx, o.Code)
	}
	return s.step(ctx, in, fengqiao.ActionClose, []fengqiao.Role{fengqiao.RoleCommander, fengqiao.RoleAnalyst}, func(o *fengqiao.Order, p *fengqiao.Principal) error {
		if err := s.byIssuer(o, p, "销号"); err != nil {
			return err
		}
		if o.State != fengqiao.OrderAccepted {
			return fengqiao.Errorf(fengqiao.EINVALID, "工单当前状态为%s，审核通过后才能销号", stateName(o.State))
		}
		for _, c := range children {
			if c.ParentID == o.ID && c.State != fengqiao.OrderClosed {
				return fengqiao.Errorf(fengqiao.EINVALID, "转办给%s的工单 %s 尚未销号", s.unitName(c.AddresseeOrg), c.ID)
			}
		}
		o.State = fengqiao.OrderClosed
		now := s.Now()
		o.ClosedAt = &now
		return nil
	})
}

func (s *Service) byIssuer(o *fengqiao.Order, p *fengqiao.Principal, what string) error {
	if o.IssuerOrg != p.OrgCode {
		return fengqiao.Errorf(fengqiao.EFORBIDDEN, "只有交办单位（%s）可以%s此工单", s.unitName(o.IssuerOrg), what)
	}
	return nil
}

// step applies one step to an order in one transaction, idempotently.
func (s *Service) step(ctx context.Context, in StepInput, action fengqiao.OrderAction, roles []fengqiao.Role, apply func(*fengqiao.Order, *fengqiao.Principal) error) (*fengqiao.Order, error) {
	p, err := s.actor(ctx, in.RequestID, roles...)
	if err != nil {
		return nil, err
	}
	if done, err := s.replayed(p, in.RequestID); done != nil || err != nil {
		return done, err
	}
	if len(in.Links) > 20 {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "附件链接最多 20 个")
	}
	for _, l := range in.Links {
		if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") || len(l) > 1000 {
			return nil, fengqiao.Errorf(fengqiao.EINVALID, "附件须为 http(s) 链接：%.80q", l)
		}
	}
	if n := len([]rune(in.Note)); n > 2000 {
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "说明过长（%d 字，最多 2000 字）", n)
	}
	var o *fengqiao.Order
	err = s.db.Update(func(tx *bolt.Tx) error {
		if o, err = getOrder(tx, in.OrderID); err != nil {
			return err
		}
		if !o.Concerns(p.OrgCode) {
			return notFound(in.OrderID)
		}
		if err := apply(o, p); err != nil {
			return err
		}
		now := s.Now()
		o.UpdatedAt = now
		o.Steps = append(o.Steps, fengqiao.OrderStep{Seq: len(o.Steps) + 1, Action: action, At: now, By: p.ID, Org: p.OrgCode, Note: in.Note, Links: in.Links, RequestID: in.RequestID})
		if err := putOrder(tx, o); err != nil {
			return err
		}
		return remember(tx, p, in.RequestID, o.ID)
	})
	if err != nil {
		return nil, err
	}
	s.after(ctx, p, o, action)
	return o, nil
}

// actor is the caller, if it has one of roles and a request id.
func (s *Service) actor(ctx context.Context, requestID string, roles ...fengqiao.Role) (*fengqiao.Principal, error) {
	p := fengqiao.PrincipalFrom(ctx)
	switch {
	case p == nil:
		return nil, fengqiao.Errorf(fengqiao.EUNAUTHORIZED, "请先登录")
	case !slices.Contains(roles, p.Role):
		return nil, fengqiao.Errorf(fengqiao.EFORBIDDEN, "当前角色（%s）无权进行此项工单操作", p.Role)
	case requestID == "" || len(requestID) > 100:
		return nil, fengqiao.Errorf(fengqiao.EINVALID, "请提供请求编号 requestId（1–100 个字符），重试时保持不变")
	}
	return p, nil
}

// replayed is the order a request id already made or changed, if it did.
func (s *Service) replayed(p *fengqiao.Principal, requestID string) (*fengqiao.Order, error) {
	var o *fengqiao.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketRequests).Get(requestKey(p, requestID))
		if id == nil {
			return nil
		}
		var err error
		o, err = getOrder(tx, string(id))
		return err
	})
	return o, err
}

// subject checks that the caller may act on s and returns its events.
func (s *Service) subject(ctx context.Context, p *fengqiao.Principal, subj fengqiao.OrderSubject) ([]*fengqiao.Event, string, error) {
	switch subj.Kind {
	case fengqiao.SubjectEvent, fengqiao.SubjectChain, fengqiao.SubjectCluster:
	default:
		return nil, "", fengqiao.Errorf(fengqiao.EINVALID, "工单对象类型未知：%q（EVENT、CHAIN 或 CLUSTER）", subj.Kind)
	}
	events, chainID, err := s.Subjects.Events(ctx, subj)
	if err != nil {
		return nil, "", err
	}
	for _, e := range events {
		if strings.HasPrefix(e.OrgCode, p.OrgCode) {
			return events, chainID, nil
		}
	}
	return nil, "", fengqiao.Errorf(fengqiao.ENOTFOUND, "未找到：%s", subj.ID)
}

// after audits a step and tells the subscribers.
func (s *Service) after(ctx context.Context, p *fengqiao.Principal, o *fengqiao.Order, action fengqiao.OrderAction) {
	err := s.Audit.Record(ctx, fengqiao.AuditEntry{At: s.Now(), PrincipalID: p.ID, PrincipalName: p.Name, Role: p.Role, OrgCode: p.OrgCode,
		Action: "工单" + actionName(action), Subject: o.ID, Remote: p.Remote})
	if err != nil {
		s.Log.Error("工单审计记录失败", "order", o.ID, "err", err)
	}
	s.notify(o, action)
}

// Order returns an order by id, or ENOTFOUND; callers in a request see only the
// orders of their subtree.
func (s *Service) Order(ctx context.Context, id string) (*fengqiao.Order, error) {
	var o *fengqiao.Order
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		o, err = getOrder(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p := fengqiao.PrincipalFrom(ctx); p != nil && !o.Concerns(p.OrgCode) {
		return nil, notFound(id)
	}
	return o, nil
}

// Matter returns the orders of a matter (解纷码) the caller may see, first first.
func (s *Service) Matter(ctx context.Context, code string) ([]*fengqiao.Order, error) {
	p := fengqiao.PrincipalFrom(ctx)
	var out []*fengqiao.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ordersOf(tx, code) {
			o, err := getOrder(tx, id)
			if err != nil {
				return err
			}
			if p == nil || o.Concerns(p.OrgCode) {
				out = append(out, o)
			}
		}
		return nil
	})
	return out, err
}

// MatterCode returns the 解纷码 of a subject (an event, chain or cluster), or "".
func (s *Service) MatterCode(subj fengqiao.OrderSubject) string {
	var code string
	s.db.View(func(tx *bolt.Tx) error {
		code = string(tx.Bucket(bucketMatters).Get([]byte(subjectKey(subj))))
		return nil
	})
	return code
}

// OrderFilter narrows a list of orders.
type OrderFilter struct {
	OrgCode  string // issued by or addressed to this unit or a unit below it
	States   []fengqiao.OrderState
	Listed   bool // only 挂牌督办 orders
	Overdue  bool // only open orders past their deadline
	From, To *time.Time
}

// Orders returns the orders matching f that the caller may see, newest first.
func (s *Service) Orders(ctx context.Context, f OrderFilter, limit int) ([]*fengqiao.Order, error) {
	p := fengqiao.PrincipalFrom(ctx)
	now := s.Now()
	var out []*fengqiao.Order
	err := s.each(func(o *fengqiao.Order) {
		switch {
		case p != nil && !o.Concerns(p.OrgCode),
			f.OrgCode != "" && !strings.HasPrefix(o.AddresseeOrg, f.OrgCode) && !strings.HasPrefix(o.IssuerOrg, f.OrgCode),
			len(f.States) > 0 && !slices.Contains(f.States, o.State),
			f.Listed && o.Listed == "",
			f.Overdue && !o.Overdue(now),
			f.From != nil && o.CreatedAt.Before(*f.From),
			f.To != nil && !o.CreatedAt.Before(*f.To):
			return
		}
		out = append(out, o)
	})
	slices.SortFunc(out, func(a, b *fengqiao.Order) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// each calls fn with every order.
func (s *Service) each(fn func(*fengqiao.Order)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOrders).ForEach(func(_, v []byte) error {
			var o fengqiao.Order
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			fn(&o)
			return nil
		})
	})
}

// Escalate raises every open order past its deadline, not raised yet, to the
// addressee's parent unit (逾期升级), and returns how many it raised.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.Now()
	var raised []*fengqiao.Order
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOrders).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var o fengqiao.Order
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			if !o.Overdue(now) || o.EscalatedTo != "" {
				continue
			}
			unit := s.Tree.Unit(o.AddresseeOrg)
			if unit == nil || unit.Parent() == nil {
				continue
			}
			o.EscalatedTo, o.UpdatedAt = unit.Parent().Code, now
			o.Steps = append(o.Steps, fengqiao.OrderStep{Seq: len(o.Steps) + 1, Action: fengqiao.ActionEscalate, At: now, By: "系统", Org: o.EscalatedTo,
				Note: fmt.Sprintf("已超过办理期限（%s），升级至%s督办", day(o.Deadline), unit.Parent().FullName())})
			if err := putOrder(tx, &o); err != nil {
				return err
			}
			raised = append(raised, &o)
		}
		return nil
	})
	for _, o := range raised {
		s.notify(o, fengqiao.ActionEscalate)
	}
	return len(raised), err
}

// KeepEscalating runs Escalate every interval until ctx ends.
func (s *Service) KeepEscalating(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Escalate(ctx); err != nil {
			s.Log.Error("工单逾期升级失败", "err", err)
		} else if n > 0 {
			s.Log.Info("工单逾期升级", "orders", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Subscribe returns notices of every order step until ctx ends; the channel
// drops notices a slow reader has no room for.
func (s *Service) Subscribe(ctx context.Context) <-chan Notice {
	ch := make(chan Notice, 64)
	s.mu.Lock()
	s.watchers[ch] = true
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
		close(ch)
	}()
	return ch
}

// Subscribers is how many subscriptions are open.
func (s *Service) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

func (s *Service) notify(o *fengqiao.Order, action fengqiao.OrderAction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.watchers {
		select {
		case ch <- Notice{Order: o, Action: action}:
		default:
		}
	}
}

// watch remembers the events an order was delivered for, for Observe.
func (s *Service) watch(o *fengqiao.Order) {
	if o.State == fengqiao.OrderClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range o.Deliveries {
		if !slices.Contains(s.watched[d.EventID], o.ID) {
			s.watched[d.EventID] = append(s.watched[d.EventID], o.ID)
		}
	}
}

func getOrder(tx *bolt.Tx, id string) (*fengqiao.Order, error) {
	v := tx.Bucket(bucketOrders).Get([]byte(id))
	if v == nil {
		return nil, notFound(id)
	}
	var o fengqiao.Order
	return &o, json.Unmarshal(v, &o)
}

func putOrder(tx *bolt.Tx, o *fengqiao.Order) error {
	v, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOrders).Put([]byte(o.ID), v)
}

func remember(tx *bolt.Tx, p *fengqiao.Principal, requestID, orderID string) error {
	return tx.Bucket(bucketRequests).Put(requestKey(p, requestID), []byte(orderID))
}

func requestKey(p *fengqiao.Principal, requestID string) []byte {
	return []byte(p.ID + "\x00" + requestID)
}

func subjectKey(s fengqiao.OrderSubject) string { return string(s.Kind) + ":" + s.ID }

// matterOf is the code of the matter a subject, or its chain, belongs to.
func matterOf(tx *bolt.Tx, subj fengqiao.OrderSubject, chainID string) string {
	m := tx.Bucket(bucketMatters)
	if code := m.Get([]byte(subjectKey(subj))); code != nil {
		return string(code)
	}
	if chainID != "" {
		return string(m.Get([]byte(subjectKey(fengqiao.OrderSubject{Kind: fengqiao.SubjectChain, ID: chainID}))))
	}
	return ""
}

// ordersOf lists the order ids of a matter, in the order they were issued.
func ordersOf(tx *bolt.Tx, code string) []string {
	var ids []string
	prefix := []byte("code\x00" + code + "\x00")
	c := tx.Bucket(bucketMatters).Cursor()
	for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
		ids = append(ids, strings.TrimPrefix(string(k), string(prefix)))
	}
	slices.SortFunc(ids, func(a, b string) int { return orderNumber(a) - orderNumber(b) })
	return ids
}

func orderNumber(id string) int {
	var n int
	fmt.Sscan(id[strings.LastIndexByte(id, '-')+1:], &n)
	return n
}

// newCode numbers a new matter: JF, the day, and a sequence, e.g. JF20261129-000012.
func newCode(tx *bolt.Tx, now time.Time) string {
	meta := tx.Bucket(bucketMeta)
	var n uint64
	if v := meta.Get([]byte("matters")); v != nil {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	meta.Put([]byte("matters"), binary.BigEndian.AppendUint64(nil, n))
	return fmt.Sprintf("JF%s-%06d", now.In(fengqiao.CST).Format("20060102"), n)
}

func notFound(id string) error {
	return fengqiao.Errorf(fengqiao.ENOTFOUND, "未找到工单：%s", id)
}

func (s *Service) unitName(code string) string {
	if u := s.Tree.Unit(code); u != nil {
		return u.FullName()
	}
	return code
}

func day(t time.Time) string { return t.In(fengqiao.CST).Format("2006-01-02") }

var stateNames = map[fengqiao.OrderState]string{
	fengqiao.OrderOpen: "办理中", fengqiao.OrderFedBack: "已反馈待审核", fengqiao.OrderReturned: "退回重办",
	fengqiao.OrderAccepted: "审核通过待销号", fengqiao.OrderClosed: "已销号",
}

func stateName(s fengqiao.OrderState) string { return stateNames[s] }

var actionNames = map[fengqiao.OrderAction]string{
	fengqiao.ActionIssue: "交办", fengqiao.ActionPassDown: "转办", fengqiao.ActionFeedback: "反馈", fengqiao.ActionReturn: "退回",
	fengqiao.ActionAccept: "审核通过", fengqiao.ActionClose: "销号", fengqiao.ActionEscalate: "逾期升级",
	fengqiao.ActionDelivered: "推送上游", fengqiao.ActionUpstream: "上游进展",
}

func actionName(a fengqiao.OrderAction) string { return actionNames[a] }
