package core

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
)

// AlertSettingsKey is the setting holding the home's alert destination
// (JSON of alert.Config).
const AlertSettingsKey = "alert"

// AlertSettings returns the home's alert destination: where alerts of
// schedules without their own go, when `bluemoon serve` (or `schedule run`)
// is given no --notify-* flags. The zero Config (the log only) when unset.
func (s *Service) AlertSettings(ctx context.Context) (alert.Config, error) {
	v, ok, err := s.db.Setting(ctx, AlertSettingsKey)
	if err != nil || !ok {
		return alert.Config{}, err
	}
	var c alert.Config
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		return alert.Config{}, err
	}
	return c, nil
}

// SetAlertSettings checks (CheckAlert: the address, the sending account)
// and stores the home's alert destination; the zero Config removes it.
func (s *Service) SetAlertSettings(ctx context.Context, c alert.Config) error {
	c = alert.Config{Command: strings.TrimSpace(c.Command), Email: strings.TrimSpace(c.Email), EmailAccount: strings.TrimSpace(c.EmailAccount)}
	if err := s.CheckAlert(ctx, c); err != nil {
		return err
	}
	if c.IsZero() {
		return s.db.DeleteSetting(ctx, AlertSettingsKey)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.db.SetSetting(ctx, AlertSettingsKey, string(b))
}

// alertOr is given when it says where to send, else the home's alert
// settings. Read at each use, so settings changed in the console apply to
// the next job of a scheduler already running.
func (s *Service) alertOr(ctx context.Context, given alert.Config) alert.Config {
	if !given.IsZero() {
		return given
	}
	c, err := s.AlertSettings(ctx)
	if err != nil {
		s.log.Warn("alert settings of this home cannot be read; alerts go to the log only", "err", err)
		return alert.Config{}
	}
	return c
}
