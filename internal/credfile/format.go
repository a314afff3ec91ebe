// Package credfile reads and writes credential files: the OAuth settings an
// administrator hands to users, encrypted and signed.
//
// A credential file is four text lines (CRLF line ends are accepted, so a
// file that went through a Windows mail client still opens):
//
//	BLUEMOON-CREDENTIALS
//	{"version":1,"kdf":"none"|"argon2id",...,"nonce":"…","signer":"…"}
//	<base64 of the XChaCha20-Poly1305 ciphertext of the provider.Config JSON>
//	signature <base64 of the Ed25519 signature>
//
// The signature covers the first three lines (each followed by "\n"); the
// first two lines are also the AEAD's additional data. The magic line, the
// header's version and signer fields and the signature line are the same in
// every format version, so a newer file is recognised as newer, not as
// damaged.
package credfile

import (
	"errors"
	"fmt"
	"time"
)

// Magic is the first line of every credential file.
const Magic = "BLUEMOON-CREDENTIALS"

// Version is the format version this program writes and the newest it reads.
const Version = 1

// MaxSize bounds the files Open accepts; real ones are about 1 KiB.
const MaxSize = 1 << 20

// Extension is the customary file name extension.
const Extension = ".bmcred"

const sigPrefix = "signature "

// KDF names how the payload key is made.
const (
	KDFNone     = "none"     // the key built into the program: obfuscation only
	KDFArgon2id = "argon2id" // a passphrase, stretched with Argon2id
)

// header is the second line. Unknown fields are ignored so that a later
// version 1 writer may add informative ones.
type header struct {
	Version int           `json:"version"`
	KDF     string        `json:"kdf"`
	Argon2  *Argon2Params `json:"argon2,omitempty"`
	Salt    []byte        `json:"salt,omitempty"`
	Nonce   []byte        `json:"nonce"`
	Signer  []byte        `json:"signer"` // Ed25519 public key
	Created time.Time     `json:"created"`
}

// Errors Open returns. Each message says what is wrong; the CLI adds what
// to do. ErrTruncated is also an ErrDamaged.
var (
	ErrTooLarge           = fmt.Errorf("the file is over %d bytes (1 MiB): not a credential file", MaxSize)
	ErrNotCredentialFile  = errors.New("not a bluemoon credential file (it does not start with " + Magic + ")")
	ErrDamaged            = errors.New("the credential file was modified or damaged")
	ErrTruncated          = fmt.Errorf("%w: it is incomplete (truncated)", ErrDamaged)
	ErrNewerVersion       = errors.New("the credential file was made by a newer bluemoon")
	ErrPassphraseRequired = errors.New("the credential file is protected by a passphrase")
	ErrWrongPassphrase    = errors.New("wrong passphrase for the credential file")
)

// UntrustedSignerError is returned when the file's signer is not the one
// the user pinned with --trust.
type UntrustedSignerError struct {
	Got, Want string // fingerprints
}

func (e *UntrustedSignerError) Error() string {
	return fmt.Sprintf("the credential file is signed by %s, not by the trusted key %s", e.Got, e.Want)
}

func damaged(detail string) error { return fmt.Errorf("%w (%s)", ErrDamaged, detail) }
