package transport

import (
	"bufio"
	"io"
	"sync"
)

// writeBufs keeps the 64 KiB write buffers of pipelined sessions for the
// next session: a bulk delivery opens one session after another, and a
// fresh buffer for each was a fifth of all the sender's allocations.
var writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func getWriter(w io.Writer) *bufio.Writer {
	b := writeBufs.Get().(*bufio.Writer)
	b.Reset(w)
	return b
}

func putWriter(b *bufio.Writer) {
	b.Reset(nil)
	writeBufs.Put(b)
}
