// Package home locates bluemoon's data folder and writes files into it
// with the permissions secrets need.
package home

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// EnvVar names the environment variable that chooses the data home when
// --home is not given.
const EnvVar = "BLUEMOON_HOME"

// Resolve picks the data home: the flag value, else $BLUEMOON_HOME, else the
// OS user config dir + "bluemoon".
func Resolve(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if env := os.Getenv(EnvVar); env != "" {
		return filepath.Abs(env)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data home: set --home or %s (%w)", EnvVar, err)
	}
	return filepath.Join(dir, "bluemoon"), nil
}

// Ensure creates dir with mode 0700, and tightens an existing one that other
// users could read, because it holds tokens and passwords.
func Ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data home %s: %w", dir, err)
	}
	if runtime.GOOS == "windows" {
		return nil // ACLs of the user profile already keep other users out
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data home %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data home %s is not a folder", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict data home %s to its owner: %w", dir, err)
		}
	}
	return nil
}

// RestrictFile makes an existing file the owner's alone (0600) when other
// users can read it: a key restored from a backup or copied between
// machines may have come back that way. Windows relies on the profile's
// ACLs, as Ensure does.
func RestrictFile(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}

// WriteSecretFile writes data to path atomically (temp file + rename) with
// mode 0600, so a crash never leaves a half-written secret and no other user
// can read it at any moment.
func WriteSecretFile(path string, data []byte) error {
	return WriteFileAtomic(path, data, 0o600)
}

// WriteFileAtomic writes data to path atomically with the given mode.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = replaceFile(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is only durable once the folder is: without this, a power
	// cut shortly after can bring back the old file — for a token file, a
	// refresh token the provider has already rotated away.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir flushes dir's entries to disk. Windows has no way to sync a
// folder (NTFS journals renames itself), so there it does nothing.
var syncDir = func(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
