package delivery

import (
	"encoding/binary"
	"errors"
)

// A row's cells are stored as one blob: each cell as a uvarint length and
// its bytes. It is cheaper to write and read than JSON, and any byte is
// allowed in a cell.

func appendFields(dst []byte, fields []string) []byte {
	for _, f := range fields {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

var errBadFields = errors.New("stored recipient row is damaged")

// decodeFields splits b into out (reused), which must have one slot per column.
func decodeFields(b []byte, out []string) error {
	for i := range out {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return errBadFields
		}
		out[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return errBadFields
	}
	return nil
}
