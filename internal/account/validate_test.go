package account

import (
	"errors"
	"strings"
	"testing"
)

// A From name with a line break would add header lines of its own to
// every message: refused when the account is saved, naming the flag.
func TestFromNameWithControlCharactersRefusedAtSave(t *testing.T) {
	a := Account{Name: "n", From: "news@example.com", SMTPHost: "smtp.example.com", SMTPPort: 587,
		Security: SecurityStartTLS, Auth: AuthNone}
	for _, name := range []string{"News\r\nBcc: all@example.com", "News\x00"} {
		a.FromName = name
		err := a.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "from_name" || !strings.Contains(err.Error(), "--from-name") {
			t.Errorf("%q: %v", name, err)
		}
	}
	a.FromName = "株式会社ブルームーン"
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
}
