package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// classify sets e.Class, e.Advice and e.throttled from the reply. The
// sentences name what a user or an administrator has to do for the replies
// people actually meet at Microsoft 365, Gmail and ordinary servers.
func classify(e *Error) {
	code, enh := e.Code, e.Enhanced
	text := strings.ToLower(e.Text)
	switch {
	case code >= 400 && code < 500:
		e.Class = Temporary
	case code >= 500:
		e.Class = Permanent
	default:
		e.Class = Temporary
	}
	if e.Op == "AUTH" && (code == 535 || code == 534 || code == 530 || code == 538 || code == 500 || code == 504) {
		e.Class = Auth
	}

	switch {
	case code == 535 && enh == "5.7.139" && strings.Contains(text, "basic authentication is disabled"),
		code == 550 && enh == "5.7.30":
		e.Class, e.settings = Auth, true
		e.Reason = "basic_auth_disabled"
		e.Advice = "Microsoft no longer accepts passwords (basic authentication) for SMTP on this mailbox: switch the account to OAuth " +
			"(auth xoauth2 with a Microsoft credential file) and sign in"
	case code == 535 && enh == "5.7.139":
		e.Class, e.settings = Auth, true
		e.Reason = "smtp_auth_disabled"
		e.Advice = "SMTP AUTH is disabled for this Microsoft 365 tenant or mailbox: an administrator must enable " +
			"authenticated SMTP (Microsoft 365 admin center > Users > the user > Mail > Manage email apps > Authenticated SMTP, " +
			"or Set-CASMailbox -SmtpClientAuthenticationDisabled $false), the guide's last Microsoft step; then test-send again. " +
			"Or send through Microsoft Graph instead, which needs no SMTP AUTH: bluemoon account edit ACCOUNT --via graph, " +
			"then sign in again to consent to Mail.Send"
	case code == 535 && enh == "5.7.3" && e.password:
		e.Class = Auth
		e.Reason = "credentials_refused"
		e.Advice = "The server refused the user name and password: check them (bluemoon account edit ACCOUNT --username NAME " +
			"--password-file FILE). A Microsoft 365 mailbox takes a password only where basic authentication for SMTP is still " +
			"allowed; else switch the account to OAuth (auth xoauth2 with a Microsoft credential file)"
	case code == 535 && enh == "5.7.3":
		e.Class = Auth
		e.Reason = "ms_token_refused"
		e.Advice = "Microsoft refused the token: it expired, belongs to another user than the From/user name, or is for the " +
			"wrong resource. The token must be for https://outlook.office.com/SMTP.Send (not Microsoft Graph's Mail.Send): check " +
			"the credential's token scope, then sign in again"
	case code == 530 && enh == "5.7.57":
		e.Class, e.settings = Auth, true
		e.Reason = "auth_first"
		e.Advice = "The server wants the client to authenticate before sending: set the account's auth to xoauth2 (or plain/login) " +
			"and security to starttls, then test-send again"
	case (code == 554 || code == 550) && strings.Contains(text, "submissionquotaexceeded"):
		e.Class, e.throttled, e.daily = Temporary, true, true
		e.Reason = "ms_daily_limit"
		e.Advice = "The mailbox reached Microsoft's daily sending limit (10,000 recipients a day): the delivery pauses, " +
			"and the rest can go after the 24-hour window ('bluemoon deliveries resume'), or from another account"
	case code == 550 && enh == "5.4.5":
		e.Class, e.throttled, e.daily = Temporary, true, true
		e.Reason = "google_daily_limit"
		e.Advice = "The mailbox reached Google's daily sending limit (2,000 messages a day, 500 on trial accounts): " +
			"the delivery pauses, and the rest can go when the limit resets, up to 24 hours later ('bluemoon deliveries resume')"
	case code == 535 && enh == "5.7.8" && isGoogle(e.Text):
		e.Class = Auth
		if e.Challenge != "" {
			e.Reason = "google_token_refused"
			e.Advice = "Google refused the access token (" + challengeStatus(e.Challenge) + "): it expired or was revoked, " +
				"or the signed-in user is not the account's From/user name. Sign in again as that user. If a new sign-in " +
				"does not help, the domain's administrator may block SMTP for the account: send through the Gmail API " +
				"instead (bluemoon account edit ACCOUNT --via gmail-api)"
		} else {
			e.Reason = "google_password"
			e.Advice = "Google did not accept the user name and password: Google accounts need OAuth (auth xoauth2 with a Google credential file)"
		}
	case code == 534 && (enh == "5.7.14" || enh == "5.7.9") && isGoogle(e.Text):
		// WebLoginRequired / InvalidSecondFactor: Google wants a person in
		// a browser, or the Workspace admin keeps this sign-in off SMTP.
		e.Class, e.settings = Auth, true
		e.Reason = "google_smtp_blocked"
		e.Advice = "Google will not let this account sign in to SMTP (it wants a browser sign-in, or the Workspace " +
			"administrator blocks SMTP): send through the Gmail API instead, which the same sign-in allows " +
			"(bluemoon account edit ACCOUNT --via gmail-api), or have the administrator allow SMTP for the user"
	case code == 535 || code == 534 || code == 538:
		e.Class = Auth
		if e.Challenge != "" {
			e.Reason = "token_refused"
			e.Advice = "The server refused the access token (" + challengeStatus(e.Challenge) + "): sign in again"
		} else {
			e.Reason = "credentials_refused"
			e.Advice = "The server refused the credentials: check the user name and password (or sign in again for OAuth)"
		}
	case code == 530:
		e.Class = Auth
		e.Reason = "auth_required"
		e.Advice = "The server wants the client to sign in (over TLS) before sending: set the account's auth " +
			"(xoauth2, plain or login) and security (starttls or tls)"
	case code == 454 && e.Op == "AUTH":
		e.Class = Temporary
		e.Reason = "auth_unavailable"
		e.Advice = "The server could not check the credentials just now (its sign-in service is down): try again later"
	case code == 452 && enh == "4.5.3":
		e.Class = Temporary
		e.Reason = "too_many_recipients"
		e.Advice = "Too many recipients in one message for this server: send to fewer recipients per message " +
			"(Gmail allows 100 per message over SMTP)"
	case code/100 == 4 && strings.Contains(text, "client certificate"):
		// Postfix: "421 4.7.1 … No client certificate presented". A 4xx
		// by its code, but no retry or new token will ever get through.
		e.Class, e.settings = Auth, true
		e.Reason = "client_cert_required"
		e.Advice = "The server requires a TLS client certificate: give the account one (bluemoon account edit NAME " +
			"--client-cert cert.pem --client-key key.pem); for Outlook.com leave it off, as the admin guide says"
	case (code == 421 || code == 451 || code == 450) && strings.HasPrefix(enh, "4.7."):
		e.Class, e.throttled = Temporary, true
		e.Reason = "throttled"
		e.Advice = "The server is throttling this account (too many messages or connections in a short time): " +
			"slow down; bluemoon retries these later"
	case code == 421:
		e.Class = Temporary
		e.Reason = "closed"
		e.Advice = "The server closed the connection; bluemoon reconnects and retries later"
	case code == 552 && (enh == "5.3.4" || strings.Contains(text, "size")):
		e.Reason = "too_large"
		e.Advice = "The message is larger than the server accepts: make the attachments smaller"
	case code == 550 && e.Op == "RCPT":
		e.Reason = "recipient_refused"
		e.Advice = "The server refused this recipient address: check it"
	case code == 553 && e.Op == "MAIL":
		e.Reason = "sender_refused"
		e.Advice = "The server refused the sender address: the From address must be the signed-in mailbox or one it may send as"
	}
}

// isGoogle: Gmail's replies end with "gsmtp" and point at support.google.com.
func isGoogle(text string) bool {
	return strings.Contains(text, "gsmtp") || strings.Contains(text, "google.com") ||
		strings.Contains(text, "Username and Password not accepted")
}

// challengeStatus picks the "status" out of a 334 JSON challenge for the sentence.
func challengeStatus(challenge string) string {
	switch {
	case strings.Contains(challenge, `"401"`):
		return "status 401: invalid or expired token"
	case strings.Contains(challenge, `"400"`):
		return "status 400: token not valid for this user or scope"
	}
	return "challenge " + challenge
}

func isCertError(err error) bool {
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var verr *tls.CertificateVerificationError
	return errors.As(err, &unk) || errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &verr)
}
