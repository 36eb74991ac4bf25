package fengqiao

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// CST is China Standard Time (UTC+8, no daylight saving), in which the county's
// systems write their times and its weeks and days begin.
var CST = time.FixedZone("CST", 8*3600)

// Source names an upstream system. Its GraphQL enum has the same values.
type Source string

const (
	SourceHotline12345    Source = "HOTLINE_12345"
	SourcePolice110       Source = "POLICE_110"
	SourceCourt           Source = "COURT"
	SourceCityMgmt        Source = "CITY_MGMT"
	SourceMediation       Source = "MEDIATION"
	SourceAlert           Source = "ALERT"
	SourceSurvey          Source = "SURVEY"
	SourceProjectRegistry Source = "PROJECT_REGISTRY"
	SourceApp             Source = "APP" // a long-tail app defined by a connector manifest
)

// SourceTitles are the sources' Chinese names, for text shown to users.
var SourceTitles = map[Source]string{
	SourceHotline12345: "12345热线", SourcePolice110: "110警情", SourceCourt: "法院立案", SourceCityMgmt: "城管执法",
	SourceMediation: "矛盾调处", SourceAlert: "感知警情", SourceSurvey: "回访", SourceProjectRegistry: "重点项目", SourceApp: "其他应用",
}

// Sources lists every Source, in display order.
var Sources = []Source{SourceHotline12345, SourcePolice110, SourceCourt, SourceCityMgmt,
	SourceMediation, SourceAlert, SourceSurvey, SourceProjectRegistry, SourceApp}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	for _, k := range Sources {
		if s == k {
			return true
		}
	}
	return false
}

// EventKind says what sort of event it is, across sources.
type EventKind string

const (
	KindComplaint   EventKind = "COMPLAINT"    // 投诉
	KindRequest     EventKind = "REQUEST"      // 求助、诉求
	KindConsult     EventKind = "CONSULT"      // 咨询
	KindSuggestion  EventKind = "SUGGESTION"   // 建议
	KindDispute     EventKind = "DISPUTE"      // 矛盾纠纷
	KindPoliceCall  EventKind = "POLICE_CALL"  // 警情
	KindLawsuit     EventKind = "LAWSUIT"      // 诉讼
	KindEnforcement EventKind = "ENFORCEMENT"  // 执法
	KindAlert       EventKind = "ALERT"        // 感知告警
	KindSurvey      EventKind = "SURVEY"       // 回访
	KindProject     EventKind = "PROJECT_NEWS" // 项目动态
)

// EventKinds lists every EventKind.
var EventKinds = []EventKind{KindComplaint, KindRequest, KindConsult, KindSuggestion, KindDispute,
	KindPoliceCall, KindLawsuit, KindEnforcement, KindAlert, KindSurvey, KindProject}

// EventStatus is where an event is in its handling.
type EventStatus string

const (
	StatusReceived   EventStatus = "RECEIVED"    // 已受理
	StatusDispatched EventStatus = "DISPATCHED"  // 已派发
	StatusInProgress EventStatus = "IN_PROGRESS" // 办理中
	StatusResolved   EventStatus = "RESOLVED"    // 已化解/已办结
	StatusClosed     EventStatus = "CLOSED"      // 已归档
)

// EventStatuses lists every EventStatus.
var EventStatuses = []EventStatus{StatusReceived, StatusDispatched, StatusInProgress, StatusResolved, StatusClosed}

// HandlingLevel is the tier of the tree that handled (or is handling) an event.
type HandlingLevel string

const (
	HandlingCounty  HandlingLevel = "COUNTY"
	HandlingTown    HandlingLevel = "TOWN"
	HandlingVillage HandlingLevel = "VILLAGE"
	HandlingGrid    HandlingLevel = "GRID"
)

// Event is one record from one upstream: a work order, a police call, a filing, a
// dispute case, an alert. Its ID is stable and global: "<origin>:<source id>",
// where the origin is the source, or a long-tail app's own name (see Origin).
type Event struct {
	ID       string
	Source   Source
	SourceID string
	// App is the connector name of the long-tail app (Source APP) the event came
	// from: each app is its own namespace, so two apps' record 1 are two events.
	App           string `json:",omitempty"`
	Kind          EventKind
	Title         string
	Content       string
	Category      string
	OccurredAt    time.Time
	ReportedAt    time.Time
	Status        EventStatus
	HandlingLevel HandlingLevel `json:",omitempty"`
	// OrgCode is the most specific org unit the event is placed in.
	OrgCode     string
	Address     string
	Location    *GeoPoint `json:",omitempty"`
	Parties     []Party
	ProjectCode string `json:",omitempty"`
	// Outcome is the upstream's word on how it ended: 调解成功, 责令整改, 满意…
	Outcome string `json:",omitempty"`
	// RefersTo is the id of the event this one is about (a survey of a work order);
	// such an event takes its place in the tree from the event it refers to.
	RefersTo string `json:",omitempty"`
	// OrderCode is the 解纷码 of the matter the event belongs to, as its upstream
	// shows it: the hub gives it with every order delivered to the system that owns
	// the work (交办/督办, see Dispatcher), and the connector's sync carries it back
	// on the record, with the status the work reached (DISPATCHED, RESOLVED).
	OrderCode string `json:",omitempty"`
	// Occurrences counts the raw reports merged into this event (repeated alerts
	// of one device become one incident). Zero means one.
	Occurrences int        `json:",omitempty"`
	Deadline    *time.Time `json:",omitempty"`
	ResolvedAt  *time.Time `json:",omitempty"`
	UpdatedAt   time.Time
	// Attributes are the app's own fields beyond the event's, typed as its
	// manifest declares (回复数, 是否匿名…).
	Attributes []Attribute `json:",omitempty"`
}

// Attribute is one of an app's own fields on an event, typed: its Value is the
// text of a value of its Type (AttributeText writes one), and the typed accessors
// read it back.
type Attribute struct {
	Name  string // identifier, unique on the event: replyCount
	Label string // Chinese label: 回复数
	Type  AttributeType
	Value string
}

// AttributeType is the type of an attribute's value. Its GraphQL enum has the
// same values.
type AttributeType string

const (
	AttributeString AttributeType = "STRING"
	AttributeInt    AttributeType = "INT"
	AttributeFloat  AttributeType = "FLOAT"
	AttributeBool   AttributeType = "BOOL"
	AttributeTime   AttributeType = "TIME" // written RFC 3339 in China time
)

// AttributeTypes lists every AttributeType.
var AttributeTypes = []AttributeType{AttributeString, AttributeInt, AttributeFloat, AttributeBool, AttributeTime}

// AttributeText writes a value of an attribute type as an Attribute's Value:
// string, int64, float64, bool or time.Time, by type.
func AttributeText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.In(CST).Format(time.RFC3339Nano)
	}
	return ""
}

// IntValue is the value of an INT attribute, nil for other types and for values
// beyond 32 bits (GraphQL's Int; Value holds any).
func (a Attribute) IntValue() *int {
	if n, err := strconv.ParseInt(a.Value, 10, 32); err == nil && a.Type == AttributeInt {
		i := int(n)
		return &i
	}
	return nil
}

// FloatValue is the value of a FLOAT or INT attribute, nil for other types.
func (a Attribute) FloatValue() *float64 {
	if f, err := strconv.ParseFloat(a.Value, 64); err == nil && (a.Type == AttributeFloat || a.Type == AttributeInt) {
		return &f
	}
	return nil
}

// BoolValue is the value of a BOOL attribute, nil for other types.
func (a Attribute) BoolValue() *bool {
	if b, err := strconv.ParseBool(a.Value); err == nil && a.Type == AttributeBool {
		return &b
	}
	return nil
}

// TimeValue is the value of a TIME attribute, nil for other types.
func (a Attribute) TimeValue() *time.Time {
	if t, err := time.Parse(time.RFC3339Nano, a.Value); err == nil && a.Type == AttributeTime {
		return &t
	}
	return nil
}

// GeoPoint is a WGS-84 coordinate.
type GeoPoint struct {
	Lat, Lon float64
}

// EventID returns the global id of a source record: "<source>:<source id>".
func EventID(source Source, sourceID string) string { return string(source) + ":" + sourceID }

// AppEventID returns the global id of a long-tail app's record: "<app>:<source id>".
// App names are lower case and sources upper case, so the two never meet.
func AppEventID(app, sourceID string) string { return app + ":" + sourceID }

// Origin is the namespace of the event's id: its app's name for a long-tail app,
// else its source.
func (e *Event) Origin() string {
	if e.App != "" {
		return e.App
	}
	return string(e.Source)
}

// OriginOf is the namespace of a connector's events, as Event.Origin.
func OriginOf(c Connector) string {
	if c.Source() == SourceApp {
		return c.Name()
	}
	return string(c.Source())
}

// Validate checks what every event must have to enter the hub and returns an
// EINVALID error naming the first problem, in Chinese.
func (e *Event) Validate(tree *OrgTree) error {
	switch {
	case !e.Source.Valid():
		return Errorf(EINVALID, "来源系统未知：%q", e.Source)
	case strings.TrimSpace(e.SourceID) == "":
		return Errorf(EINVALID, "缺少源系统编号")
	case (e.Source == SourceApp) != (e.App != ""):
		return Errorf(EINVALID, "其他应用的事件须注明应用名（且仅其他应用）：来源 %s，应用 %q", e.Source, e.App)
	case e.ID != e.Origin()+":"+e.SourceID:
		return Errorf(EINVALID, "事件编号与来源不一致：%q", e.ID)
	case strings.TrimSpace(e.Title) == "" && strings.TrimSpace(e.Content) == "":
		return Errorf(EINVALID, "标题和内容均为空")
	case e.ReportedAt.IsZero():
		return Errorf(EINVALID, "缺少受理时间")
	case e.UpdatedAt.IsZero():
		return Errorf(EINVALID, "缺少更新时间")
	case !validStatus(e.Status):
		return Errorf(EINVALID, "办理状态未知：%q", e.Status)
	case e.OrgCode == "":
		return Errorf(EINVALID, "无法确定所属区域")
	case tree != nil && tree.Unit(e.OrgCode) == nil:
		return Errorf(EINVALID, "所属区域编码不存在：%s", e.OrgCode)
	}
	for _, p := range e.Parties {
		if p.PartyID() == "" {
			return Errorf(EINVALID, "当事人缺少姓名或名称")
		}
	}
	return nil
}

func validStatus(s EventStatus) bool {
	for _, k := range EventStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// complainantRoles are the roles of people who bring a matter.
var complainantRoles = map[string]bool{"来电人": true, "申请人": true, "原告": true, "报警人": true, "反映人": true, "留言人": true}

// IsComplainant reports whether a party's role is one that brings a matter
// (来电人, 申请人, 原告, 报警人, 反映人, 留言人).
func (p Party) IsComplainant() bool { return p.Person != nil && complainantRoles[p.Role] }

// Reporter returns the id of the person who brought the event: the first
// complainant, else the first person named; "" if none.
func (e *Event) Reporter() string {
	first := ""
	for _, p := range e.Parties {
		switch {
		case p.IsComplainant():
			return p.Person.ID
		case p.Person != nil && first == "":
			first = p.Person.ID
		}
	}
	return first
}

// Party is a person or an organization named in an event, with their role in it
// (来电人、申请人、被申请人、原告、被告…). Exactly one of Person and Organization is set.
type Party struct {
	Role         string
	Person       *Person       `json:",omitempty"`
	Organization *Organization `json:",omitempty"`
}

// PartyID returns the id of whichever of Person or Organization is set.
func (p Party) PartyID() string {
	switch {
	case p.Person != nil:
		return p.Person.ID
	case p.Organization != nil:
		return p.Organization.ID
	}
	return ""
}

// Person is a natural person as the upstreams know them.
type Person struct {
	ID       string
	Name     string
	IDNumber string `json:",omitempty"` // 身份证号
	Phone    string `json:",omitempty"`
	// Accounts are the person's ids in the apps that report them (an app's
	// 留言用户), each under the app's own scheme.
	Accounts []Identifier `json:",omitempty"`
}

// Identifier is one stable way a system knows a person: a scheme and a value.
// Schemes are SchemeIDNumber, SchemePhone, or an app's account: "<connector>:account".
type Identifier struct {
	Scheme string
	Value  string
}

// The schemes of the identifiers every system shares.
const (
	SchemeIDNumber = "idNumber"
	SchemePhone    = "phone"
)

// AccountScheme is the scheme of a person's account in the named app or connector.
func AccountScheme(app string) string { return app + ":account" }

// Identifiers returns every identifier the person is known by: ID number, phone,
// then accounts.
func (p *Person) Identifiers() []Identifier {
	var out []Identifier
	if p.IDNumber != "" {
		out = append(out, Identifier{SchemeIDNumber, p.IDNumber})
	}
	if p.Phone != "" {
		out = append(out, Identifier{SchemePhone, p.Phone})
	}
	return append(out, p.Accounts...)
}

// NewPerson returns a Person whose ID is derived from the strongest identifier given:
// the ID number, else name and phone, else an app's account, else the name alone
// within the org unit. The derivation is keyed (SetPersonKey), so an ID cannot be
// checked against guessed ID numbers or phones.
func NewPerson(name, idNumber, phone, orgCode string, accounts ...Identifier) *Person {
	name, idNumber, phone = strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(idNumber)), strings.TrimSpace(phone)
	var kept []Identifier
	for _, a := range accounts {
		if a.Value = strings.TrimSpace(a.Value); a.Scheme != "" && a.Value != "" {
			kept = append(kept, a)
		}
	}
	if name == "" && idNumber == "" && len(kept) == 0 {
		return &Person{}
	}
	var key string
	switch {
	case idNumber != "":
		key = "id:" + idNumber
	case phone != "":
		key = "np:" + name + "/" + phone
	case len(kept) > 0:
		key = "ac:" + kept[0].Scheme + "/" + kept[0].Value
	default:
		key = "no:" + name + "/" + orgCode
	}
	return &Person{ID: "P" + personHash(key), Name: name, IDNumber: idNumber, Phone: phone, Accounts: kept}
}

// personKey keys person ids. Until SetPersonKey is called it is random for the
// process: ids are then stable within one run only.
var personKey atomic.Pointer[[]byte]

func init() {
	key := make([]byte, 32)
	rand.Read(key)
	personKey.Store(&key)
}

// SetPersonKey sets the secret person ids are derived with. The hub sets it once at
// start from its data directory, before any connector runs; ids made under another
// key do not match, so a new key needs a full re-sync.
func SetPersonKey(key []byte) {
	k := append([]byte(nil), key...)
	personKey.Store(&k)
}

func personHash(s string) string {
	m := hmac.New(sha256.New, *personKey.Load())
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Organization is a company or other body (统一社会信用代码 where known).
type Organization struct {
	ID         string
	Name       string
	CreditCode string `json:",omitempty"`
}

// NewOrganization returns an Organization keyed by its credit code, else its name.
func NewOrganization(name, creditCode string) *Organization {
	name, creditCode = strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(creditCode))
	if name == "" && creditCode == "" {
		return &Organization{}
	}
	key := "name:" + name
	if creditCode != "" {
		key = "uscc:" + creditCode
	}
	return &Organization{ID: "O" + shortHash(key), Name: name, CreditCode: creditCode}
}

// Project is a key project (重点项目) from the project registry, coded by the
// standard classes 8大类25小类.
type Project struct {
	Code      string
	Name      string
	Class     string        // 大类
	Subclass  string        // 小类
	OrgCode   string        `json:",omitempty"`
	Address   string        `json:",omitempty"`
	Progress  int           // percent complete
	Owner     *Organization `json:",omitempty"`
	UpdatedAt time.Time
}

// Validate checks what every project must have to enter the hub.
func (p *Project) Validate(tree *OrgTree) error {
	switch {
	case strings.TrimSpace(p.Code) == "":
		return Errorf(EINVALID, "缺少项目编码")
	case strings.TrimSpace(p.Name) == "":
		return Errorf(EINVALID, "缺少项目名称")
	case p.Progress < 0 || p.Progress > 100:
		return Errorf(EINVALID, "项目进度应在0到100之间：%d", p.Progress)
	case p.OrgCode != "" && tree != nil && tree.Unit(p.OrgCode) == nil:
		return Errorf(EINVALID, "项目所在区域编码不存在：%s", p.OrgCode)
	case p.UpdatedAt.IsZero():
		return Errorf(EINVALID, "缺少更新时间")
	}
	return nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}
