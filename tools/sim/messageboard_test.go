package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMessageBoardWrites(t *testing.T) {
	t.Parallel()
	b := NewMessageBoard([]map[string]string{{"留言编号": "LY1"}, {"留言编号": "LY2"}}, 10)
	b.WriteKey = "k"
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	type answer struct {
		Code    int           `json:"code"`
		Message string        `json:"message"`
		Data    boardTransfer `json:"data"`
	}
	key := map[string]string{"X-Board-Key": "k"}
	body := map[string]string{"unit": "331081100010", "deadline": "2026-11-06 23:59:59", "opinion": "请办理", "level": "加急", "outerNo": "DLV-1"}
	write := func(path string, header map[string]string, body map[string]string) answer {
		t.Helper()
		var a answer
		if err := post(t, srv.URL+path, header, body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := write("/api/messages/LY1/transfers", map[string]string{}, body); a.Code != 401 {
		t.Fatalf("no key: %+v", a)
	}
	if a := write("/api/messages/LY1/urges", key, body); a.Code != 1005 || a.Message != "留言尚未转办，不能催办" {
		t.Fatalf("urge first: %+v", a)
	}
	withID := map[string]string{"X-Board-Key": "k", "X-Request-Id": "R1"}
	first := write("/api/messages/LY1/transfers", withID, body)
	if first.Code != 0 || first.Data.TransferID != "ZB000001" || first.Data.OuterNo != "DLV-1" {
		t.Fatalf("transfer: %+v", first)
	}
	if a := write("/api/messages/LY1/transfers", withID, body); a.Code != 409 || a.Data.TransferID != "ZB000001" {
		t.Fatalf("repeat with the id: %+v", a)
	}
	if a := write("/api/messages/LY1/transfers", key, body); a.Code != 0 || a.Data.TransferID != "ZB000002" {
		t.Fatalf("repeat without an id makes a second: %+v", a)
	}
	if a := write("/api/messages/LY1/urges", key, body); a.Code != 0 || a.Data.TransferID != "CB000003" {
		t.Fatalf("urge: %+v", a)
	}
	for _, tc := range []struct {
		path  string
		field string
		value string
		code  int
	}{
		{"/api/messages/LY9/transfers", "", "", 1001},
		{"/api/messages/LY2/transfers", "unit", " ", 1002},
		{"/api/messages/LY2/transfers", "deadline", "明天", 1003},
		{"/api/messages/LY2/transfers", "level", "很急", 1006},
	} {
		b2 := map[string]string{}
		for k, v := range body {
			b2[k] = v
		}
		if tc.field != "" {
			b2[tc.field] = tc.value
		}
		if a := write(tc.path, key, b2); a.Code != tc.code || a.Message == "" {
			t.Errorf("%s %s=%q: %+v, want %d", tc.path, tc.field, tc.value, a, tc.code)
		}
	}
	b.Close("LY2")
	if a := write("/api/messages/LY2/transfers", key, body); a.Code != 1004 {
		t.Fatalf("closed: %+v", a)
	}
	resp, err := http.Get(srv.URL + "/api/transfers?outerNo=DLV-1")
	if err != nil {
		t.Fatal(err)
	}
	var found struct {
		Data struct {
			List []boardTransfer `json:"list"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&found)
	resp.Body.Close()
	if len(found.Data.List) != 3 || found.Data.List[0].TransferID != "ZB000001" {
		t.Fatalf("search by outerNo: %+v", found)
	}
	if got := b.Transfers("LY1"); len(got) != 3 || got[2] != "CB000003" {
		t.Fatalf("transfers %v", got)
	}
}

func TestMessageBoardPagesBySize(t *testing.T) {
	t.Parallel()
	b := NewMessageBoard([]map[string]string{{"留言编号": "LY1"}, {"留言编号": "LY2"}, {"留言编号": "LY3"}}, 10)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	type page struct {
		Code int
		Data struct {
			List          []map[string]string
			NextPageToken string
		}
	}
	get := func(query string) (int, page) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/messages?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p page
		json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	if status, p := get(""); status != 200 || len(p.Data.List) != 3 || p.Data.NextPageToken != "" {
		t.Fatalf("its own page size: %d %+v", status, p)
	}
	status, p := get("pageSize=2")
	if status != 200 || len(p.Data.List) != 2 || p.Data.NextPageToken == "" {
		t.Fatalf("pageSize=2: %d %+v", status, p)
	}
	if status, p = get("pageSize=2&pageToken=" + p.Data.NextPageToken); status != 200 || len(p.Data.List) != 1 || p.Data.List[0]["留言编号"] != "LY3" {
		t.Fatalf("second page of 2: %d %+v", status, p)
	}
	for _, bad := range []string{"pageSize=0", "pageSize=1001", "pageSize=x"} {
		if status, _ := get(bad); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, status)
		}
	}
}
