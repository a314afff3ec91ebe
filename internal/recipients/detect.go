package recipients

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// detectEncoding reads the whole file once (streaming, in small buffers) and
// says "utf-8" when every byte is valid UTF-8, else "shift_jis" when it
// decodes as Shift_JIS / CP932 without a single invalid sequence. Looking at
// the whole file, not the first few kilobytes, matters: a list whose
// Japanese names start at row 5,000 is still Shift_JIS.
func detectEncoding(r io.ReadSeeker) (string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	valid, err := isUTF8(br)
	if err != nil {
		return "", err
	}
	if valid {
		return "utf-8", nil
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	dec := transform.NewReader(bufio.NewReaderSize(r, 64<<10), japanese.ShiftJIS.NewDecoder())
	buf := make([]byte, 64<<10)
	for {
		n, err := dec.Read(buf)
		if bytes.ContainsRune(buf[:n], utf8.RuneError) {
			return "", errors.New("the file is neither UTF-8 nor Shift_JIS (CP932): save it as UTF-8 CSV, or name its encoding with --encoding")
		}
		if err == io.EOF {
			return "shift_jis", nil
		}
		if err != nil {
			return "", err
		}
	}
}

// isUTF8 reports whether everything br yields is valid UTF-8, carrying a
// rune cut by a buffer boundary over to the next read.
func isUTF8(br io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		n, err := br.Read(buf[carry:])
		n += carry
		chunk := buf[:n]
		// Keep an incomplete rune at the end for the next round.
		keep := 0
		if err != io.EOF {
			for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
				if utf8.RuneStart(chunk[i]) {
					if !utf8.FullRune(chunk[i:]) {
						keep = n - i
					}
					break
				}
			}
		}
		if !utf8.Valid(chunk[:n-keep]) {
			return false, nil
		}
		copy(buf, chunk[n-keep:])
		carry = keep
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}
