package peertest

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/japanese"
)

// charsetReader lets mime.WordDecoder read ISO-2022-JP subjects as a Japanese mail reader does.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-2022-jp":
		return japanese.ISO2022JP.NewDecoder().Reader(r), nil
	}
	return nil, fmt.Errorf("unexpected charset %q", charset)
}
