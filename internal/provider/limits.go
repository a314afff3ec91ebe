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

// APILimits returns the limits of sending through the provider's HTTPS
// mail API (accounts --via graph or gmail-api).
func APILimits(k Kind) Limits {
	switch k {
	case Microsoft:
		// Graph: at most 4 requests at once per mailbox and 10,000 per 10
		// minutes (1,000 a minute); Exchange's 10,000 recipients a day still
		// apply. sendMail takes at most 4 MB per request, and the MIME goes
		// base64-encoded: 3,000,000 bytes of message.
		return Limits{PerMinute: 1000, PerDay: 10000, Connections: 4, RecipientsPerMsg: 500, MaxMessageBytes: GraphMaxMIME}
	case Google:
		// Gmail API: each send costs 100 quota units; a new project's
		// per-user default allows about 60 sends a minute. The account's
		// 2,000 messages a day apply as over SMTP; 35 MB per message with
		// the media upload.
		return Limits{PerMinute: 60, PerDay: 2000, Connections: 2, RecipientsPerMsg: 100, MaxMessageBytes: GmailAPIMaxBytes}
	}
	return LimitsFor(k)
}

// Size limits of the mail APIs.
const (
	// GraphMaxRequest is the largest request Graph's sendMail takes ("4
	// MB"; read as 4,000,000 bytes, the stricter meaning).
	GraphMaxRequest = 4_000_000
	// GraphMaxMIME is the largest message whose base64 fits GraphMaxRequest.
	GraphMaxMIME = GraphMaxRequest / 4 * 3
	// GmailAPIMaxBytes is users.messages.send's upload limit.
	GmailAPIMaxBytes = 35 << 20
)
