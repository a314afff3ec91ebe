package home

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files that make a folder a data home, and those of it that hold
// secrets. They mirror the names their packages use (store.FileName,
// secrets' folder, credfile.SigningKeyFile); a test checks they agree.
const (
	dbFile         = "bluemoon.db"
	secretsDir     = "secrets"
	signingKeyFile = "admin-signing.key"
)

// IsDataHome reports whether dir is a bluemoon data home that has been
// used: it holds the database, the secrets folder or the admin signing
// key.
func IsDataHome(dir string) bool {
	for _, name := range []string{dbFile, secretsDir, signingKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// Containing returns the data home that holds path (a real path, symbolic
// links already resolved), looking at path's folder and every folder
// above it, or "" when none does. Files a recipient list names must never
// come from there: with the master key go every stored token and password.
func Containing(path string) string {
	for dir := filepath.Dir(path); ; {
		if IsDataHome(dir) {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// IsSecret reports whether path (a real path) is one of a data home's
// secrets: anything in its secrets folder, its database (tokens and
// passwords, encrypted) or the admin signing key. Even a user's own
// --attach may not send those.
func IsSecret(path string) bool {
	first, _, ok := inHome(path)
	return ok && (first == secretsDir || first == signingKeyFile || strings.HasPrefix(first, dbFile))
}

// inHome splits path's place in the data home that holds it: the
// home's entry it is under (first) and the rest; ok is false outside a home.
func inHome(path string) (first, rest string, ok bool) {
	h := Containing(path)
	if h == "" {
		return "", "", false
	}
	rel, err := filepath.Rel(h, path)
	if err != nil {
		return "", "", false
	}
	first, rest, _ = strings.Cut(filepath.ToSlash(rel), "/")
	return first, rest, true
}

// UploadsDir is the folder of a data home where the web console keeps
// what a person uploads to prepare a delivery: lists, attachments, the
// files an attachment column names. They are that person's own files, so
// unlike the rest of a data home they may be attached (still only from
// inside the attachments folder a delivery names).
const UploadsDir = "console"

// InUploads reports whether path (a real path) is inside the uploads
// folder of the data home that holds it.
func InUploads(path string) bool {
	first, rest, ok := inHome(path)
	return ok && first == UploadsDir && rest != ""
}

// CheckOutputFile says why path may not be a file a command writes where
// the user says (preview --out, credentials create --out), or nil: it is
// a folder, or one of a data home's secrets (IsSecret, followed through
// symbolic links) — an --out naming the database replaced every account,
// delivery and sign-in of the home with the file, one naming the admin
// signing key the key that signs the organisation's credential files.
// Other places in a home stay allowed ('bluemoon demo --home DIR' writes
// its sample files in DIR/demo).
func CheckOutputFile(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return fmt.Errorf("it is a folder: give the name of a file to write (in it, or elsewhere)")
	}
	places := []string{abs}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		places = append(places, filepath.Join(dir, filepath.Base(abs)))
	}
	for _, p := range places {
		if IsSecret(p) {
			return fmt.Errorf("that is one of bluemoon's own files in its data folder %s (its database, keys or tokens), "+
				"which nothing else may replace: write it somewhere else", Containing(p))
		}
	}
	return nil
}
