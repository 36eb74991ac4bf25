package fengqiao_test

import (
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
