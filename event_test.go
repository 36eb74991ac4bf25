package fengqiao_test

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"fengqiao"
)

func validEvent() *fengqiao.Event {
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	return &fengqiao.Event{
		ID: "HOTLINE_12345:GD1", Source: fengqiao.SourceHotline12345, SourceID: "GD1", Kind: fengqiao.KindComplaint,
		Title: "噪音扰民", ReportedAt: at, UpdatedAt: at, Status: fengqiao.StatusReceived, OrgCode: "331081100010",
		Parties: []fengqiao.Party{{Role: "来电人", Person: fengqiao.NewPerson("陈明", "", "19900001234", "331081100010")}},
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	tree := fengqiao.Wenling()
	if err := validEvent().Validate(tree); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	breaks := map[string]func(e *fengqiao.Event){
		"unknown source":   func(e *fengqiao.Event) { e.Source = "FAX" },
		"no source id":     func(e *fengqiao.Event) { e.SourceID, e.ID = " ", "HOTLINE_12345: " },
		"id mismatch":      func(e *fengqiao.Event) { e.ID = "HOTLINE_12345:GD2" },
		"no text":          func(e *fengqiao.Event) { e.Title, e.Content = "", " " },
		"no reported time": func(e *fengqiao.Event) { e.ReportedAt = time.Time{} },
		"no updated time":  func(e *fengqiao.Event) { e.UpdatedAt = time.Time{} },
		"bad status":       func(e *fengqiao.Event) { e.Status = "LOST" },
		"no place":         func(e *fengqiao.Event) { e.OrgCode = "" },
		"unknown place":    func(e *fengqiao.Event) { e.OrgCode = "999999999999" },
		"nameless party": func(e *fengqiao.Event) {
			e.Parties = append(e.Parties, fengqiao.Party{Person: fengqiao.NewPerson("", "", "1", "")})
		},
	}
	for name, breakIt := range breaks {
		e := validEvent()
		breakIt(e)
		err := e.Validate(tree)
		if fengqiao.ErrorCode(err) != fengqiao.EINVALID || fengqiao.ErrorMessage(err) == "" {
			t.Errorf("%s: err = %v, want EINVALID with a message", name, err)
		}
	}
}

func TestPartyIdentity(t *testing.T) {
	t.Parallel()
	// The ID number decides, whatever else differs.
	a := fengqiao.NewPerson("陈明", "33108119800101901x", "19900001234", "331081100010")
	b := fengqiao.NewPerson("陈 明", "33108119800101901X", "", "331081101004")
	if a.ID != b.ID || a.IDNumber != "33108119800101901X" {
		t.Errorf("same ID number, different ids: %s %s", a.ID, b.ID)
	}
	// Without one, name and phone; without a phone, name within the org unit.
	if fengqiao.NewPerson("陈明", "", "1", "x").ID == fengqiao.NewPerson("陈明", "", "2", "x").ID {
		t.Error("different phones share an id")
	}
	if fengqiao.NewPerson("陈明", "", "", "v1").ID == fengqiao.NewPerson("陈明", "", "", "v2").ID {
		t.Error("same name in different villages shares an id")
	}
	if fengqiao.NewOrganization("某公司", "91331081MA0000001X").ID != fengqiao.NewOrganization("某有限公司", "91331081ma0000001x").ID {
		t.Error("the credit code does not decide an organization's id")
	}
}

// A person's id cannot be checked against a guessed ID number: it is keyed by a
// secret, so the same person has another id under another key, and none is the
// plain hash of the identifier.
func TestPersonIDsAreKeyed(t *testing.T) {
	const idNumber = "331081198001019012"
	fengqiao.SetPersonKey([]byte("first key"))
	first := fengqiao.NewPerson("陈明", idNumber, "", "").ID
	if again := fengqiao.NewPerson("陈明", idNumber, "", "").ID; again != first {
		t.Fatalf("one key, one person, two ids: %s %s", first, again)
	}
	plain := sha256.Sum256([]byte("id:" + idNumber))
	if first == "P"+hex.EncodeToString(plain[:8]) {
		t.Fatal("the id is the plain hash of the ID number")
	}
	fengqiao.SetPersonKey([]byte("second key"))
	if second := fengqiao.NewPerson("陈明", idNumber, "", "").ID; second == first {
		t.Errorf("the id does not depend on the key: %s", second)
	}
}

// A person known to an app only by an account is a person, identified by it.
func TestPersonAccounts(t *testing.T) {
	t.Parallel()
	scheme := fengqiao.AccountScheme("messageboard")
	a := fengqiao.NewPerson("", "", "", "", fengqiao.Identifier{Scheme: scheme, Value: " A0001 "})
	b := fengqiao.NewPerson("", "", "", "", fengqiao.Identifier{Scheme: scheme, Value: "A0001"})
	c := fengqiao.NewPerson("", "", "", "", fengqiao.Identifier{Scheme: scheme, Value: "A0002"})
	if a.ID == "" || a.ID != b.ID || a.ID == c.ID {
		t.Errorf("accounts do not identify: %q %q %q", a.ID, b.ID, c.ID)
	}
	p := fengqiao.NewPerson("陈明", "331081198001019012", "13800001111", "", fengqiao.Identifier{Scheme: scheme, Value: "A0001"}, fengqiao.Identifier{Scheme: scheme})
	want := []fengqiao.Identifier{{Scheme: fengqiao.SchemeIDNumber, Value: "331081198001019012"}, {Scheme: fengqiao.SchemePhone, Value: "13800001111"}, {Scheme: scheme, Value: "A0001"}}
	if got := p.Identifiers(); !reflect.DeepEqual(got, want) {
		t.Errorf("identifiers %v, want %v", got, want)
	}
}

func TestMasking(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"331081198001019012": "3310**********9012", "13812345678": "138****5678", "123": "***"} {
		got := fengqiao.MaskIDNumber(in)
		if len(in) == 11 {
			got = fengqiao.MaskPhone(in)
		}
		if got != want {
			t.Errorf("mask(%s) = %s, want %s", in, got, want)
		}
	}
	if (&fengqiao.Principal{Role: fengqiao.RoleAnalyst}).MaySeePersonalData() || !(&fengqiao.Principal{Role: fengqiao.RoleCommander}).MaySeePersonalData() {
		t.Error("only commanders see personal data")
	}
}
