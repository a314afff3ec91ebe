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
	valid, _, err := isUTF8(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return "", err
	}
	if valid {
		return "utf-8", nil
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sjis, err := isShiftJIS(r)
	if err != nil {
		return "", err
	}
	if !sjis {
		return "", errors.New("the file is neither UTF-8 nor Shift_JIS (CP932): save it as UTF-8 CSV, or name its encoding with --encoding")
	}
	return "shift_jis", nil
}

// checkForced says why a file does not look like the encoding forced with
// --encoding, from its first bytes (head; atEOF when that is the whole
// file), rather than letting every name come out garbled. The file is
// not read twice: it may be a pipe. Rows further on that are not UTF-8
// are named by Next.
func checkForced(head []byte, atEOF bool, enc string) error {
	if !atEOF {
		// A character cut at the end of head is not an error.
		for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
			if utf8.RuneStart(head[i]) {
				if !utf8.FullRune(head[i:]) {
					head = head[:i]
				}
				break
			}
		}
	}
	valid := utf8.Valid(head)
	switch {
	case enc == "shift_jis" && valid && hasNonASCII(head):
		return &EncodingError{Chosen: enc, Found: "utf-8"}
	case enc == "utf-8" && !valid:
		if sjis, _ := isShiftJIS(bytes.NewReader(head)); sjis {
			return &EncodingError{Chosen: enc, Found: "shift_jis"}
		}
		return &EncodingError{Chosen: enc}
	}
	return nil
}

// EncodingError: the file is not in the encoding forced with --encoding.
type EncodingError struct {
	Chosen string // utf-8 or shift_jis
	Found  string // what the file is: utf-8, shift_jis, or "" (not UTF-8 text, nor known)
}

func (e *EncodingError) Error() string {
	switch {
	case e.Chosen == "shift_jis":
		return "--encoding shift_jis, but the file is UTF-8 (its Japanese text would come out garbled): use --encoding utf-8, or leave --encoding at auto"
	case e.Found == "shift_jis":
		return "--encoding utf-8, but the file is not UTF-8: it reads as Shift_JIS (CP932), as Excel saves CSV in Japan; use --encoding shift_jis, or leave --encoding at auto"
	}
	return "--encoding utf-8, but the file is not UTF-8 text: save it as \"CSV UTF-8\", or leave --encoding at auto"
}

// isShiftJIS reports whether everything r yields decodes as Shift_JIS
// without an invalid sequence.
func isShiftJIS(r io.Reader) (bool, error) {
	dec := transform.NewReader(bufio.NewReaderSize(r, 64<<10), japanese.ShiftJIS.NewDecoder())
	buf := make([]byte, 64<<10)
	for {
		n, err := dec.Read(buf)
		if bytes.ContainsRune(buf[:n], utf8.RuneError) {
			return false, nil
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// isUTF8 reports whether everything br yields is valid UTF-8, carrying a
// rune cut by a buffer boundary over to the next read, and whether any of
// it is not ASCII.
func isUTF8(br io.Reader) (valid, nonASCII bool, err error) {
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		n, err := br.Read(buf[carry:])
		n += carry
		chunk := buf[:n]
		if !nonASCII {
			nonASCII = hasNonASCII(chunk)
		}
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
			return false, nonASCII, nil
		}
		copy(buf, chunk[n-keep:])
		carry = keep
		if err == io.EOF {
			return true, nonASCII, nil
		}
		if err != nil {
			return false, nonASCII, err
		}
	}
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
