package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// A list with a header row and no rows under it: the check step says so,
// and a send posted by hand (the button is disabled) is refused with the
// same words; no delivery is made.
func TestEmptyListSendIsRefusedOverHTTP(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()

	code, page, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"empty.csv": []byte("email,name\r\n")}})
	m := draftPath.FindStringSubmatch(at)
	if code != http.StatusOK || m == nil {
		t.Fatalf("upload: %d at %s\n%s", code, at, page)
	}
	base := "/drafts/" + m[1]
	s.post(base+"/message", map[string]string{"account": "relay", "subject": "News", "text": "Hello {{.name}}\n", "action": "next"}, nil)
	const said = "The list has no recipients"
	code, page = s.get(base + "/check")
	if !strings.Contains(page, said) {
		t.Fatalf("check: %d\n%s", code, page)
	}
	code, page, at = s.post(base+"/send", map[string]string{"name": "empty"}, nil)
	if code != http.StatusUnprocessableEntity || strings.HasPrefix(at, "/deliveries/") || !strings.Contains(page, said) {
		t.Fatalf("send: %d at %s\n%s", code, at, page)
	}
	if ds, err := c.svc.Deliveries(t.Context()); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries: %v, %v", ds, err)
	}
	if n := ms.smtp.Accepted(); n != 0 {
		t.Fatalf("the stand-in got %d messages", n)
	}
}
