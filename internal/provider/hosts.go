package provider

import "strings"

// submissionHosts are the providers' documented SMTP submission servers:
// one table, so that every check of "whose server is this" knows the same
// hosts. A host not listed belongs to no known provider.
var submissionHosts = []struct {
	host string
	kind Kind
}{
	{"smtp.gmail.com", Google},             // Gmail and Google Workspace (the preset)
	{"smtp-relay.gmail.com", Google},       // Google Workspace's SMTP relay service
	{"smtp.office365.com", Microsoft},      // Microsoft 365 / Exchange Online (the preset)
	{"smtp-mail.outlook.com", Microsoft},   // Outlook.com (personal accounts)
	{"smtp.office365.us", Microsoft},       // Microsoft 365 GCC High / DoD
	{"smtp.partner.outlook.cn", Microsoft}, // Microsoft 365 operated by 21Vianet
}

// HostProvider returns the provider whose documented SMTP submission
// server host is, in any case and with a trailing dot allowed; false for
// any other host (a generic server, or a provider's host not listed).
func HostProvider(host string) (Kind, bool) {
	h := strings.TrimSuffix(strings.TrimSpace(host), ".")
	for _, s := range submissionHosts {
		if strings.EqualFold(h, s.host) {
			return s.kind, true
		}
	}
	return "", false
}
