package credfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// SealOptions controls Seal.
type SealOptions struct {
	// Passphrase, when set, encrypts with an Argon2id key from it; empty
	// uses the built-in key (obfuscation only).
	Passphrase []byte
	Argon2     *Argon2Params // nil: DefaultArgon2
	Now        time.Time     // zero: time.Now
}

// Seal encrypts cfg and signs the result with key, returning the file's
// bytes. cfg must be complete (provider.Config.Validate).
func Seal(cfg provider.Config, key ed25519.PrivateKey, opt SealOptions) ([]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("seal credential file: bad signing key")
	}
	payload, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	h := header{
		Version: Version,
		KDF:     KDFNone,
		Nonce:   make([]byte, chacha20poly1305.NonceSizeX),
		Signer:  key.Public().(ed25519.PublicKey),
		Created: now.UTC().Truncate(time.Second),
	}
	aeadKey := builtinKey
	if len(opt.Passphrase) > 0 {
		p := DefaultArgon2
		if opt.Argon2 != nil {
			p = *opt.Argon2
		}
		if err := p.check(); err != nil {
			return nil, err
		}
		h.KDF, h.Argon2, h.Salt = KDFArgon2id, &p, make([]byte, 16)
		if _, err := rand.Read(h.Salt); err != nil {
			return nil, err
		}
		aeadKey = p.key(opt.Passphrase, h.Salt)
	}
	if _, err := rand.Read(h.Nonce); err != nil {
		return nil, err
	}
	return assemble(h, payload, aeadKey, key)
}

// assemble encrypts payload under h and signs the lines.
func assemble(h header, payload, aeadKey []byte, key ed25519.PrivateKey) ([]byte, error) {
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(Magic + "\n")
	buf.Write(hj)
	buf.WriteByte('\n')
	aead, err := chacha20poly1305.NewX(aeadKey)
	if err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, h.Nonce, payload, buf.Bytes())
	buf.WriteString(base64.StdEncoding.EncodeToString(ct) + "\n")
	sig := ed25519.Sign(key, buf.Bytes())
	buf.WriteString(sigPrefix + base64.StdEncoding.EncodeToString(sig) + "\n")
	if buf.Len() > MaxSize {
		return nil, fmt.Errorf("credential file would be %d bytes, over the 1 MiB limit", buf.Len())
	}
	return buf.Bytes(), nil
}
