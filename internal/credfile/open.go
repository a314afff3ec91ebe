package credfile

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Envelope is a credential file whose structure and signature are
// verified but whose payload is still encrypted.
type Envelope struct {
	hdr        header
	aad        []byte // the magic and header lines, as signed
	ciphertext []byte
}

// Version is the file's format version.
func (e *Envelope) Version() int { return e.hdr.Version }

// Created is when the file was made, as its signer says.
func (e *Envelope) Created() time.Time { return e.hdr.Created }

// Signer is the public key that signed the file.
func (e *Envelope) Signer() ed25519.PublicKey { return ed25519.PublicKey(e.hdr.Signer) }

// Fingerprint names the signer (see Fingerprint).
func (e *Envelope) Fingerprint() string { return Fingerprint(e.Signer()) }

// NeedsPassphrase reports whether Decrypt needs a passphrase.
func (e *Envelope) NeedsPassphrase() bool { return e.hdr.KDF == KDFArgon2id }

// Parse checks that data is a complete, unmodified credential file of a
// version this program reads, and that its signature is valid for the
// signer it names. It never panics, whatever data holds.
func Parse(data []byte) (*Envelope, error) {
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotCredentialFile)
	}
	first, _, hasNewline := strings.Cut(string(data), "\n")
	if strings.TrimSuffix(first, "\r") != Magic {
		return nil, classifyBadMagic(data, hasNewline)
	}
	lines, err := splitLines(data)
	if err != nil {
		return nil, err
	}
	// A complete file is four lines, each ended by a line break, so the
	// split has five pieces and the last (after the final break) is empty.
	body := lines[1:]
	switch {
	case len(body) < 4:
		return nil, ErrTruncated
	case len(body) > 4 || body[3] != "":
		return nil, damaged("unexpected text after the signature")
	}
	hdrLine, ctLine, sigLine := body[0], body[1], body[2]
	sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sigLine, sigPrefix))
	if !strings.HasPrefix(sigLine, sigPrefix) || err != nil || len(sig) != ed25519.SignatureSize {
		return nil, damaged("bad signature line")
	}
	var h header
	if err := json.Unmarshal([]byte(hdrLine), &h); err != nil {
		return nil, damaged("unreadable header")
	}
	if len(h.Signer) != ed25519.PublicKeySize {
		return nil, damaged("bad signer key")
	}
	aad := Magic + "\n" + hdrLine + "\n"
	signed := aad + ctLine + "\n"
	if !ed25519.Verify(ed25519.PublicKey(h.Signer), []byte(signed), sig) {
		return nil, damaged("the signature does not match")
	}
	// Past this point the signer wrote every byte, so what is wrong is not
	// damage in transit.
	if h.Version > Version {
		return nil, fmt.Errorf("%w (format version %d; this bluemoon reads up to version %d): update bluemoon",
			ErrNewerVersion, h.Version, Version)
	}
	if h.Version < 1 {
		return nil, damaged(fmt.Sprintf("format version %d", h.Version))
	}
	if err := h.check(); err != nil {
		return nil, damaged(err.Error())
	}
	ct, err := base64.StdEncoding.DecodeString(ctLine)
	if err != nil {
		return nil, damaged("bad payload encoding")
	}
	return &Envelope{hdr: h, aad: []byte(aad), ciphertext: ct}, nil
}

func (h *header) check() error {
	if len(h.Nonce) != chacha20poly1305.NonceSizeX {
		return fmt.Errorf("nonce of %d bytes", len(h.Nonce))
	}
	switch h.KDF {
	case KDFNone:
		return nil
	case KDFArgon2id:
		if h.Argon2 == nil || len(h.Salt) < 16 {
			return fmt.Errorf("argon2id without settings or salt")
		}
		return h.Argon2.check()
	}
	return fmt.Errorf("unknown kdf %q", h.KDF)
}

// splitLines splits data into lines, accepting CRLF line ends when every
// line has one (a whole-file conversion, which changes nothing signed).
func splitLines(data []byte) ([]string, error) {
	lines := strings.Split(string(data), "\n")
	if !strings.Contains(string(data), "\r\n") {
		return lines, nil
	}
	for i := 0; i < len(lines)-1; i++ {
		l, ok := strings.CutSuffix(lines[i], "\r")
		if !ok {
			return nil, damaged("mixed line ends")
		}
		lines[i] = l
	}
	return lines, nil
}

// classifyBadMagic tells a file that is not ours from one of ours whose
// first line was cut short or had a byte changed.
func classifyBadMagic(data []byte, hasNewline bool) error {
	if !hasNewline && len(data) < len(Magic) && Magic[:len(data)] == string(data) {
		return ErrTruncated
	}
	if len(data) > len(Magic) {
		diff := 0
		for i := 0; i <= len(Magic); i++ {
			want := byte('\n')
			if i < len(Magic) {
				want = Magic[i]
			}
			if data[i] != want {
				diff++
			}
		}
		if diff <= 3 {
			return damaged("first line altered")
		}
	}
	return ErrNotCredentialFile
}

// Decrypt returns the settings in the file. passphrase is ignored for files
// made without one.
func (e *Envelope) Decrypt(passphrase []byte) (provider.Config, error) {
	key := builtinKey
	if e.NeedsPassphrase() {
		if len(passphrase) == 0 {
			return provider.Config{}, ErrPassphraseRequired
		}
		key = e.hdr.Argon2.key(passphrase, e.hdr.Salt)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return provider.Config{}, err
	}
	pt, err := aead.Open(nil, e.hdr.Nonce, e.ciphertext, e.aad)
	if err != nil {
		if e.NeedsPassphrase() {
			// The signature already vouched for every byte, so the key is wrong.
			return provider.Config{}, ErrWrongPassphrase
		}
		return provider.Config{}, damaged("the payload does not decrypt")
	}
	var cfg provider.Config
	if err := json.Unmarshal(pt, &cfg); err != nil {
		return provider.Config{}, damaged("unreadable settings")
	}
	if err := cfg.Validate(); err != nil {
		return provider.Config{}, fmt.Errorf("the credential file's settings are invalid: %w", err)
	}
	return cfg, nil
}

// OpenOptions controls Open.
type OpenOptions struct {
	Passphrase []byte
	Trust      string // when set, the signer's fingerprint must match
}

// File is an opened credential file.
type File struct {
	Envelope *Envelope
	Config   provider.Config
}

// Open parses, verifies and decrypts data.
func Open(data []byte, opt OpenOptions) (*File, error) {
	env, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := env.CheckTrust(opt.Trust); err != nil {
		return nil, err
	}
	cfg, err := env.Decrypt(opt.Passphrase)
	if err != nil {
		return nil, err
	}
	return &File{Envelope: env, Config: cfg}, nil
}

// CheckTrust returns an *UntrustedSignerError unless trust is empty or the
// signer's fingerprint, and a *MalformedTrustError when trust is not a
// fingerprint at all (a typo is not "someone else signed it").
func (e *Envelope) CheckTrust(trust string) error {
	if trust == "" {
		return nil
	}
	if err := CheckFingerprint(trust); err != nil {
		return err
	}
	if SameFingerprint(trust, e.Fingerprint()) {
		return nil
	}
	return &UntrustedSignerError{Got: e.Fingerprint(), Want: trust}
}

// ReadFile reads a credential file from disk, refusing one over MaxSize
// before reading it whole.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err // an *fs.PathError naming path
	}
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	return data, nil
}
