//go:build !unix

package merge

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs on this system") }
