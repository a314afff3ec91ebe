package loopback

import (
	"net"
	"testing"
)

func TestListenDefaultsToAFreeLoopbackPort(t *testing.T) {
	l, err := Listen("")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := l.Addr().(*net.TCPAddr)
	if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port == 0 || Port(l) != a.Port {
		t.Fatalf("Listen(\"\") is at %v, Port %d; want 127.0.0.1 at a free port", a, Port(l))
	}
}

func TestAtPort(t *testing.T) {
	// listenAt is a server start that keeps its listener for the test.
	var got net.Listener
	listenAt := func(addr string) (err error) {
		got, err = net.Listen("tcp", addr)
		return err
	}
	hostOf := func(l net.Listener) string { h, _, _ := net.SplitHostPort(l.Addr().String()); return h }

	// 0: a free port.
	if err := AtPort(0, listenAt); err != nil {
		t.Fatal(err)
	}
	free := Port(got)
	if hostOf(got) != "127.0.0.1" || free == 0 {
		t.Fatalf("AtPort(0) listens at %v", got.Addr())
	}
	got.Close()

	// A free port asked for: that one.
	if err := AtPort(free, listenAt); err != nil {
		t.Fatal(err)
	}
	if Port(got) != free || hostOf(got) != "127.0.0.1" {
		t.Fatalf("AtPort(%d) listens at %v", free, got.Addr())
	}
	taken := got
	defer taken.Close()

	// A port taken meanwhile: another, free one.
	if err := AtPort(free, listenAt); err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if p := Port(got); p == free || p == 0 || hostOf(got) != "127.0.0.1" {
		t.Fatalf("AtPort(%d), taken, listens at %v; want 127.0.0.1 at another port", free, got.Addr())
	}
}

func TestPortOfANonTCPListener(t *testing.T) {
	if p := Port(fakeListener{}); p != 0 {
		t.Fatalf("Port of a unix listener = %d, want 0", p)
	}
}

type fakeListener struct{ net.Listener }

func (fakeListener) Addr() net.Addr { return &net.UnixAddr{Name: "/tmp/x", Net: "unix"} }
