package connectors

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"fengqiao"
)

// quarantineIDs lists the source ids of records, in order.
func quarantineIDs(records []fengqiao.Reject) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.SourceID)
	}
	return out
}

// QuarantineFirst reads the newest n records by the time index and no others:
// it still answers when an older record is unreadable, which reading them all
// (and so the old load-everything read) does not.
func TestQuarantineFirstReadsOnlyTheNewest(t *testing.T) {
	t.Parallel()
	st, err := OpenState(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, fengqiao.CST)
	var rejects []fengqiao.Reject
	for i, id := range []string{"C", "A", "E", "B", "D"} { // key order is not time order
		rejects = append(rejects, fengqiao.Reject{Connector: "board", SourceID: id, Reason: "时间格式错误", Raw: "{}", At: at.Add(time.Duration(i) * time.Hour)})
	}
	if err := st.commit("board", batchResult{rejected: rejects, replay: true}); err != nil {
		t.Fatal(err)
	}
	// A (the second oldest) comes again, still refused: it is the newest now.
	again := rejects[1]
	again.At = at.Add(10 * time.Hour)
	if err := st.commit("board", batchResult{rejected: []fengqiao.Reject{again}, clean: []string{"B"}, replay: true}); err != nil {
		t.Fatal(err)
	}
	// Newest first: A (again), D, E, C; B left quarantine.
	got, err := st.QuarantineFirst("board", 2)
	if err != nil || !slices.Equal(quarantineIDs(got), []string{"A", "D"}) {
		t.Fatalf("QuarantineFirst(2) = %v, %v; want A, D", quarantineIDs(got), err)
	}
	if got, _ := st.QuarantineFirst("board", 0); len(got) != 0 {
		t.Errorf("QuarantineFirst(0) = %v, want none", quarantineIDs(got))
	}
	if all, err := st.Quarantine("board"); err != nil || !slices.Equal(quarantineIDs(all), []string{"A", "D", "E", "C"}) {
		t.Errorf("Quarantine = %v, %v; want A, D, E, C", quarantineIDs(all), err)
	}
	states := []fengqiao.ConnectorState{{Name: "board"}}
	if err := st.load(&states[0]); err != nil || states[0].Quarantined != 4 {
		t.Errorf("quarantined = %d, %v; want 4", states[0].Quarantined, err)
	}

	// The oldest record is damaged: the newest two are still read, all are not.
	if err := st.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(quarantineBucket("board")).Put([]byte("C"), []byte("{damaged"))
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.QuarantineFirst("board", 2); err != nil || !slices.Equal(quarantineIDs(got), []string{"A", "D"}) {
		t.Errorf("with the oldest damaged, QuarantineFirst(2) = %v, %v; want A, D", quarantineIDs(got), err)
	}
	if _, err := st.Quarantine("board"); err == nil {
		t.Errorf("reading every record read past the damaged one without error")
	}
}

// A state file written before the time index gets it when opened.
func TestOpenStateIndexesAnOlderQuarantine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, fengqiao.CST)
	err = db.Update(func(tx *bolt.Tx) error {
		q, err := tx.CreateBucket(quarantineBucket("board"))
		if err != nil {
			return err
		}
		for i, id := range []string{"B", "A", "C"} {
			b, _ := json.Marshal(fengqiao.Reject{Connector: "board", SourceID: id, At: at.Add(time.Duration(i) * time.Hour)})
			if err := q.Put([]byte(id), b); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, err := st.QuarantineFirst("board", 2); err != nil || !slices.Equal(quarantineIDs(got), []string{"C", "A"}) {
		t.Errorf("QuarantineFirst(2) = %v, %v; want C, A", quarantineIDs(got), err)
	}
}
