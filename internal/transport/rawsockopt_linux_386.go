package transport

func rawSetLowWater(fd uintptr, n int) error { return errNoRawSetsockopt }
