package manifest_test

import (
	"io"
	"log/slog"
	"testing"

	"fengqiao"
	"fengqiao/connectors/manifest"
)

// A message board knows its posters only by their account: the manifest maps it,
// under the app's own scheme, and the person is identified by it.
func TestAPersonKnownOnlyByAnAppAccount(t *testing.T) {
	t.Parallel()
	m, err := manifest.Parse("board.yaml", []byte(good+`parties:
  - role: '"留言人"'
    person:
      name: get(r, "nick", "")
      account: r["留言用户"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := manifest.New(m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	first, _, _, err := c.Map([]byte(`{"id":"1","title":"路灯不亮","t":1767225600,"留言用户":"U0001"}`))
	if err != nil {
		t.Fatal(err)
	}
	again, _, _, err := c.Map([]byte(`{"id":"2","title":"路灯还是不亮","t":1767312000,"留言用户":"U0001","nick":"老陈"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Parties) != 1 || first.Parties[0].Person == nil {
		t.Fatalf("parties %+v", first.Parties)
	}
	p := first.Parties[0].Person
	want := fengqiao.Identifier{Scheme: "app:account", Value: "U0001"}
	if ids := p.Identifiers(); len(ids) != 1 || ids[0] != want || first.Parties[0].Role != "留言人" {
		t.Errorf("identifiers %v, role %q; want %v", ids, first.Parties[0].Role, want)
	}
	if p.ID == "" || again.Parties[0].Person.ID != p.ID {
		t.Errorf("one account, two people: %q %q", p.ID, again.Parties[0].Person.ID)
	}
	// A record without the account names no one.
	none, _, _, err := c.Map([]byte(`{"id":"3","title":"无名","t":1767225600,"留言用户":""}`))
	if err != nil || len(none.Parties) != 0 {
		t.Errorf("a party without name or identifier: %+v %v", none.Parties, err)
	}
}
