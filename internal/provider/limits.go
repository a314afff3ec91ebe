package provider

// SMTPPreset is the submission server a provider's mailboxes use.
type SMTPPreset struct {
	Host     string
	Port     int
	Security string // tls | starttls
}

// SMTPPresetFor returns the provider's SMTP server, if it has a well-known one.
func SMTPPresetFor(k Kind) (SMTPPreset, bool) {
	switch k {
	case Google:
		return SMTPPreset{Host: "smtp.gmail.com", Port: 465, Security: "tls"}, true
	case Microsoft:
		return SMTPPreset{Host: "smtp.office365.com", Port: 587, Security: "starttls"}, true
	}
	return SMTPPreset{}, false
}

// Limits are a mailbox's sending limits. Zero means "no limit".
type Limits struct {
	PerMinute        int `json:"per_minute"`     // messages per minute
	PerDay           int `json:"per_day"`        // recipients per rolling 24 hours
	Connections      int `json:"connections"`    // SMTP connections at once
	PerConnection    int `json:"per_connection"` // messages before reconnecting
	RecipientsPerMsg int `json:"recipients_per_message"`
	MaxMessageBytes  int `json:"max_message_bytes"` // size limit of one message
}

// LimitsFor returns the provider's documented per-mailbox limits.
func LimitsFor(k Kind) Limits {
	switch k {
	case Google:
		// Gmail: 2,000 messages/day per Workspace user, 100 recipients per
		// message over SMTP, 25 MB per message.
		return Limits{PerMinute: 60, PerDay: 2000, Connections: 3, PerConnection: 100, RecipientsPerMsg: 100, MaxMessageBytes: 25 << 20}
	case Microsoft:
		// Exchange Online: 30 messages/minute, 10,000 recipients/day, 3
		// concurrent connections per mailbox, 35 MB per message.
		return Limits{PerMinute: 30, PerDay: 10000, Connections: 3, PerConnection: 100, RecipientsPerMsg: 500, MaxMessageBytes: 35 << 20}
	}
	// 1,000 messages a connection, as Exim allows by default
	// (smtp_accept_max_per_connection), the strictest common MTA: each
	// reconnection costs a TCP, EHLO and AUTH exchange.
	return Limits{Connections: 4, PerConnection: 1000, MaxMessageBytes: 25 << 20}
}
