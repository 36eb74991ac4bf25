package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"fengqiao"
	"fengqiao/gateway"
)

// dial opens a graphql-transport-ws connection to the bundle's /graphql.
func (b *testBundle) dial(t *testing.T, ctx context.Context) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// closedWith reads from conn until it closes, and returns its close frame.
// Messages before the close are counted.
func closedWith(ctx context.Context, conn *websocket.Conn) (websocket.CloseError, int, error) {
	n := 0
	for {
		var msg map[string]any
		err := wsjson.Read(ctx, conn, &msg)
		var closed websocket.CloseError
		if errors.As(err, &closed) {
			return closed, n, nil
		}
		if err != nil {
			return websocket.CloseError{}, n, err
		}
		n++
	}
}

// alert is a live alert in the first grid of village A.
func alert(id string) *fengqiao.Event {
	return &fengqiao.Event{ID: fengqiao.EventID(fengqiao.SourceAlert, id), Source: fengqiao.SourceAlert, SourceID: id,
		Title: "烟感报警", OrgCode: villageA + "001", ReportedAt: time.Now()}
}

func TestSubscriptionsEndWhenTheirTokenExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a bound for a broken build, not a measure
	defer cancel()
	conn := b.dial(t, ctx)
	token := signed(t, string(fengqiao.RoleGridStaff), villageA, time.Now().Add(2*time.Second))
	wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	var ack struct{ Type string }
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("init: %v %+v", err, ack)
	}
	wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]string{"query": "subscription { alerts { id } }"}})

	// Alerts keep coming; the subscriber receives them while its token is valid.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				b.feed.Publish([]*fengqiao.Event{alert(strings.Repeat("A", i%5+1))})
			}
		}
	}()
	var first struct{ Type string }
	if err := wsjson.Read(ctx, conn, &first); err != nil || first.Type != "next" {
		t.Fatalf("no alert streamed: %v %+v", err, first)
	}
	closed, _, err := closedWith(ctx, conn)
	if err != nil {
		t.Fatalf("the socket outlived its token: %v", err)
	}
	if closed.Code != 4403 || !strings.Contains(closed.Reason, "身份令牌已过期") {
		t.Errorf("closed with %d %q, want 4403 and the reason", closed.Code, closed.Reason)
	}
}

func TestWebsocketsWithoutConnectionInitAreClosed(t *testing.T) {
	t.Parallel()
	b := setupWith(t, gateway.Config{WebsocketInitTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := b.dial(t, ctx)
	closed, n, err := closedWith(ctx, conn)
	if err != nil || n != 0 {
		t.Fatalf("a silent socket stayed open: %v (%d messages)", err, n)
	}
	if closed.Code != 4408 || !strings.Contains(closed.Reason, "connection_init") || !hasChinese.MatchString(closed.Reason) {
		t.Errorf("closed with %d %q, want 4408 and the reason", closed.Code, closed.Reason)
	}
}

func TestWebsocketsWithARefusedTokenAreClosed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for token, reason := range map[string]string{
		signed(t, "SUPERUSER", county, time.Now().Add(time.Hour)):    "角色无效",
		signed(t, "COMMANDER", county, time.Now().Add(-time.Second)): "已过期",
		"forged": "身份令牌无效",
		b.token(t, fengqiao.RoleGridStaff, villageA) + "x":                                   "身份令牌无效",
		signed(t, string(fengqiao.RoleGridStaff), "331081999999", time.Now().Add(time.Hour)): "组织单元不存在",
	} {
		conn := b.dial(t, ctx)
		wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
		closed, n, err := closedWith(ctx, conn)
		if err != nil || n != 0 || closed.Code != 4403 || !strings.Contains(closed.Reason, reason) {
			t.Errorf("%s: closed with %d %q after %d messages (%v), want 4403 %q", reason, closed.Code, closed.Reason, n, err, reason)
		}
	}
}
