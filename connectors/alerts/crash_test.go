package alerts

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fengqiao/connectors"
	"fengqiao/tools/sim"
	"fengqiao/tools/world"
)

// webhookChild, when set to a state file's path, makes the test binary serve the
// webhook over that file on a random loopback port, print its URL and serve until
// it is killed, so that a test can kill -9 a process taking a storm.
const webhookChild = "FENGQIAO_TEST_WEBHOOK_STATE"

func TestMain(m *testing.M) {
	if path := os.Getenv(webhookChild); path != "" {
		st, err := connectors.OpenState(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		hook := httptest.NewServer(New(Config{WebhookSecret: "s"}, st, nil))
		fmt.Println(hook.URL)
		select {}
	}
	os.Exit(m.Run())
}

func TestKilledMidStormTheWebhookKeepsEveryAnsweredAlert(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), webhookChild+"="+path)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the webhook did not start: %v", err)
	}
	pusher := &sim.Pusher{URL: strings.TrimSpace(url), Secret: "s", Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}

	// 8 senders, half alone and half in batches of 32, until the process dies;
	// it is killed once 3,000 alerts have been answered, in the middle of the storm.
	var mu sync.Mutex
	answered := map[string]bool{}
	enough := make(chan struct{})
	var once sync.Once
	note := func(alerts []world.Alert) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range alerts {
			answered[a.AlertID] = true
		}
		if len(answered) >= 3000 {
			once.Do(func() { close(enough) })
		}
	}
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				alerts := testAlerts(nil, (s*1_000_000)+i*32, 32)
				if s%2 == 0 {
					status, ans, err := pusher.PushBatch(context.Background(), alerts)
					if err != nil {
						return // killed
					}
					if status != http.StatusOK || ans.Accepted != len(alerts) {
						t.Errorf("sender %d: %d %+v", s, status, ans)
						return
					}
					note(alerts)
					continue
				}
				for _, a := range alerts {
					status, err := pusher.Push(context.Background(), a)
					if err != nil {
						return
					}
					if status != http.StatusAccepted {
						t.Errorf("sender %d: %d", s, status)
						return
					}
					note([]world.Alert{a})
				}
			}
		})
	}
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-enough:
	case <-stopped:
		t.Fatal("the senders stopped before the kill")
	}
	cmd.Process.Kill()
	<-stopped
	cmd.Wait()

	// Every alert answered is in the inbox, once; sent again, each is a duplicate.
	hook, st := startWebhook(t, path, "s")
	ids := inboxIDs(t, st)
	mu.Lock()
	defer mu.Unlock()
	var resend []world.Alert
	for id := range answered {
		if ids[id] != 1 {
			t.Fatalf("%s was answered but is stored %d times after kill -9", id, ids[id])
		}
		resend = append(resend, world.Alert{AlertID: id, DeviceID: "YG-331081102245-00002", Type: "SMOKE", Signal: "ALARM"})
	}
	t.Logf("%d alerts answered before kill -9, %d in the inbox", len(answered), len(ids))
	pusher.URL = hook.URL
	for i := 0; i < len(resend); i += 1000 {
		part := resend[i:min(i+1000, len(resend))]
		if status, ans, err := pusher.PushBatch(context.Background(), part); err != nil || status != http.StatusOK || ans.Duplicate != len(part) {
			t.Fatalf("the answered alerts sent again after the restart: %d %+v %v", status, ans, err)
		}
	}
}
