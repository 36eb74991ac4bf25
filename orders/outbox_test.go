package orders_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fengqiao"
	"fengqiao/audit"
	"fengqiao/orders"
)

// TestDeliveriesRetryUntilTheUpstreamTakesThem: a delivery waits in the outbox
// while the upstream is down, showing the reason, and goes once it is back; a
// retry the upstream had already taken is no second piece of work.
func TestDeliveriesRetryUntilTheUpstreamTakesThem(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.upstream.down = true
	o := issue(t, w, as(fengqiao.RoleCommander, county), "r1")
	if len(o.Deliveries) != 1 || o.Deliveries[0].State != fengqiao.DeliveryPending || o.Deliveries[0].EventID != "HOTLINE_12345:GD1" {
		t.Fatalf("deliveries %+v", o.Deliveries)
	}
	if err := w.svc.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := w.svc.Outbox()
	if st.Depth != 1 || len(st.Failing) != 1 || !strings.Contains(st.Failing[0].Reason, "503") || st.Failing[0].Refused {
		t.Fatalf("outbox %+v", st)
	}
	w.upstream.down = false
	if err := w.svc.DeliverDue(ctx); err != nil || w.upstream.calls != 1 {
		t.Fatalf("an attempt before the backoff: %d calls, %v", w.upstream.calls, err)
	}
	w.advance(orders.Backoff(1))
	if err := w.svc.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := w.svc.Order(ctx, o.ID)
	d := got.Deliveries[0]
	if d.State != fengqiao.DeliveryDelivered || d.Ref != "PD001" || d.Attempts != 2 || d.LastError != "" || got.Steps[len(got.Steps)-1].Action != fengqiao.ActionDelivered {
		t.Fatalf("after delivery %+v", got)
	}
	sent := w.upstream.received[0]
	if sent.Key != o.ID+"-1" || sent.OrderCode != o.Code || sent.SourceID != "GD1" || sent.OrgCode != town || !sent.Deadline.Equal(o.Deadline) || sent.Priority != fengqiao.PriorityUrgent {
		t.Errorf("dispatch %+v", sent)
	}
	if st, _ := w.svc.Outbox(); st.Depth != 0 || len(st.Failing) != 0 {
		t.Errorf("outbox after delivery %+v", st)
	}
}

// TestARefusedDeliveryShowsTheUpstreamsReason: a refusal is not retried; the
// order and the outbox status carry the upstream's reason.
func TestARefusedDeliveryShowsTheUpstreamsReason(t *testing.T) {
	w := newWorld(t)
	w.upstream.refuse = "工单已办结，不能派发"
	o := issue(t, w, as(fengqiao.RoleCommander, county), "r1")
	w.svc.DeliverDue(context.Background())
	w.advance(time.Hour)
	w.svc.DeliverDue(context.Background())
	got, _ := w.svc.Order(context.Background(), o.ID)
	if w.upstream.calls != 1 || got.Deliveries[0].State != fengqiao.DeliveryFailed || got.Deliveries[0].LastError != "工单已办结，不能派发" {
		t.Fatalf("%d calls, order %+v", w.upstream.calls, got.Deliveries)
	}
	st, _ := w.svc.Outbox()
	if st.Depth != 0 || len(st.Failing) != 1 || !st.Failing[0].Refused {
		t.Errorf("outbox %+v", st)
	}
}

// TestTheUpstreamsCompletionIsFeedback: when the upstream's sync shows the work
// done, the order waits for the issuer's review, once.
func TestTheUpstreamsCompletionIsFeedback(t *testing.T) {
	w := newWorld(t)
	o := issue(t, w, as(fengqiao.RoleCommander, county), "r1")
	w.svc.DeliverDue(context.Background())
	e := event("GD1", village+"1")
	w.svc.Observe([]*fengqiao.Event{e}) // as it was: no news
	e.Status = fengqiao.StatusDispatched
	w.svc.Observe([]*fengqiao.Event{e, event("GD9", town)})
	e.Status, e.Outcome = fengqiao.StatusResolved, "已办结，群众满意"
	w.svc.Observe([]*fengqiao.Event{e})
	w.svc.Observe([]*fengqiao.Event{e}) // read again by the next sync
	got, _ := w.svc.Order(context.Background(), o.ID)
	var steps []string
	for _, s := range got.Steps {
		steps = append(steps, string(s.Action)+" "+s.Note)
	}
	if got.State != fengqiao.OrderFedBack || len(steps) != 4 || steps[2] != "UPSTREAM 上游系统已派发" || steps[3] != "FEEDBACK 上游系统已办结（已办结，群众满意）" {
		t.Fatalf("state %s, steps %q", got.State, steps)
	}
}

// TestWorkTheUpstreamHadClosedIsNoFeedback: an order on an event its upstream had
// already finished waits for the addressee, however often the sync reads it.
func TestWorkTheUpstreamHadClosedIsNoFeedback(t *testing.T) {
	w := newWorld(t)
	w.upstream.refuse = "工单已办结，不能派发"
	w.events["HOTLINE_12345:GD1"].Status = fengqiao.StatusResolved
	o := issue(t, w, as(fengqiao.RoleCommander, county), "r1")
	w.svc.DeliverDue(context.Background())
	e := *w.events["HOTLINE_12345:GD1"]
	w.svc.Observe([]*fengqiao.Event{&e})
	w.svc.Observe([]*fengqiao.Event{&e})
	got, _ := w.svc.Order(context.Background(), o.ID)
	if got.State != fengqiao.OrderOpen || len(got.Steps) != 1 {
		t.Fatalf("state %s, steps %+v", got.State, got.Steps)
	}
}

// crashChild, set to a data directory, makes the test binary run an orders
// service there that delivers to the upstream at crashUpstream until killed;
// with crashIssue set it first issues that many orders.
const (
	crashChild    = "FENGQIAO_TEST_ORDERS_DIR"
	crashUpstream = "FENGQIAO_TEST_ORDERS_UPSTREAM"
	crashIssue    = "FENGQIAO_TEST_ORDERS_ISSUE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChild); dir != "" {
		if err := runCrashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// httpUpstream delivers over HTTP to an upstream that honours the dispatch key.
type httpUpstream struct {
	recordingUpstream
	url string
}

func (u *httpUpstream) Dispatch(ctx context.Context, d fengqiao.Dispatch) (fengqiao.Receipt, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.url, strings.NewReader(d.OrderCode))
	req.Header.Set("X-Request-Id", d.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fengqiao.Receipt{}, fengqiao.Errorf(fengqiao.EUNAVAILABLE, "上游不可用：%v", err)
	}
	defer resp.Body.Close()
	var r fengqiao.Receipt
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

func crashSubjects(n int) subjects {
	evs := subjects{}
	for i := range n {
		e := event(fmt.Sprintf("GD%d", i), village+"1")
		evs[e.ID] = e
	}
	return evs
}

func openCrashService(dir, url string, n int) (*orders.Service, *audit.Log, error) {
	log, err := audit.Open(filepath.Join(dir, "audit.db"))
	if err != nil {
		return nil, nil, err
	}
	svc, err := orders.Open(filepath.Join(dir, "orders.db"), orders.Config{Tree: fengqiao.Wenling(), Calendar: fengqiao.OfficialCalendar(),
		Subjects: crashSubjects(n), Audit: log, Dispatchers: []fengqiao.Dispatcher{&httpUpstream{url: url}}})
	return svc, log, err
}

func runCrashChild(dir string) error {
	var n int
	fmt.Sscan(os.Getenv(crashIssue), &n)
	svc, _, err := openCrashService(dir, os.Getenv(crashUpstream), max(n, 1))
	if err != nil {
		return err
	}
	ctx := as(fengqiao.RoleCommander, county)
	for i := range n {
		_, err := svc.Issue(ctx, orders.IssueInput{RequestID: fmt.Sprint(i), Subject: fengqiao.OrderSubject{Kind: fengqiao.SubjectEvent, ID: fmt.Sprintf("HOTLINE_12345:GD%d", i)},
			Kind: fengqiao.OrderAssign, AddresseeOrg: town, WorkingDays: 5})
		if err != nil {
			return err
		}
	}
	fmt.Println("delivering")
	svc.Deliver(context.Background())
	return nil
}

// TestKilledMidDeliveryNothingIsLostOrDoubled: the process delivering orders is
// killed (-9) in the middle of delivering them, some answered by the upstream
// but not yet recorded; started again, it delivers the rest and the upstream
// holds each order's work exactly once.
func TestKilledMidDeliveryNothingIsLostOrDoubled(t *testing.T) {
	const n = 60
	var mu sync.Mutex
	created := map[string]int{} // dispatch key → pieces of work created
	requests := 0
	halfway := make(chan struct{})
	var once sync.Once
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // a slow acknowledgement: the kill lands between answer and record
		key := r.Header.Get("X-Request-Id")
		mu.Lock()
		requests++
		dup := created[key] > 0
		if !dup {
			created[key]++
		}
		if len(created) >= n/2 {
			once.Do(func() { close(halfway) })
		}
		mu.Unlock()
		json.NewEncoder(w).Encode(fengqiao.Receipt{Ref: "PD-" + key, Duplicate: dup})
	}))
	defer upstream.Close()
	dir := t.TempDir()
	start := func(issue int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChild+"="+dir, crashUpstream+"="+upstream.URL, fmt.Sprintf("%s=%d", crashIssue, issue))
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			t.Fatalf("the child did not start: %v", err)
		}
		return cmd
	}
	first := start(n)
	select {
	case <-halfway:
	case <-time.After(time.Minute):
		t.Fatal("no deliveries")
	}
	first.Process.Kill()
	first.Wait()

	second := start(0)
	deadline := time.After(2 * time.Minute)
	for {
		mu.Lock()
		done := len(created) == n
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("only %d of %d delivered after the restart", len(created), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // let the last answers be recorded
	second.Process.Kill()
	second.Wait()

	for key, c := range created {
		if c != 1 {
			t.Errorf("work %s created %d times", key, c)
		}
	}
	svc, log, err := openCrashService(dir, upstream.URL, n)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	defer svc.Close()
	all, _ := svc.Orders(context.Background(), orders.OrderFilter{}, 0)
	delivered := 0
	for _, o := range all {
		if o.Deliveries[0].State == fengqiao.DeliveryDelivered && o.Deliveries[0].Ref == "PD-"+o.ID+"-1" {
			delivered++
		}
	}
	st, _ := svc.Outbox()
	if len(all) != n || delivered != n || st.Depth != 0 {
		t.Errorf("%d orders, %d recorded as delivered, outbox %d; the upstream had %d requests for %d pieces of work", len(all), delivered, st.Depth, requests, len(created))
	}
	t.Logf("%d requests for %d pieces of work (retries after the kill answered as duplicates)", requests, len(created))
}
