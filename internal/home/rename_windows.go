package home

import (
	"os"
	"time"
)

// replaceFile renames tmp over path. On Windows a rename fails while another
// process has path open (reading a token, say); a refresh that rotated the
// refresh token must not lose it to that moment, so it tries again briefly.
func replaceFile(tmp, path string) error {
	var err error
	for i := 0; i < 40; i++ {
		if err = os.Rename(tmp, path); err == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return err
}
