package message

import (
	"bytes"
	"testing"
)

// The bulk sender renders one message per recipient: this is its cost.
func benchmarkBytes(b *testing.B, m *Message) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

func newsletter(cs string) *Message {
	m := japaneseMessage(cs)
	m.Attachments = nil
	return m
}

func BenchmarkBytesUTF8(b *testing.B)      { benchmarkBytes(b, newsletter(UTF8)) }
func BenchmarkBytesISO2022JP(b *testing.B) { benchmarkBytes(b, newsletter(ISO2022JP)) }
func BenchmarkBytesASCIIText(b *testing.B) {
	benchmarkBytes(b, &Message{From: Address{Name: "Acme", Addr: "news@acme.example"}, To: []Address{{Name: "Bob", Addr: "bob@example.com"}},
		Subject: "Your November newsletter", Text: "Hello Bob,\n\nHere is what is new this month.\n\n-- Acme\n"})
}
func BenchmarkBytesWithAttachment(b *testing.B) { benchmarkBytes(b, japaneseMessage(UTF8)) }

// The same through WriteBuffer into one reused buffer, with the Message-ID
// given, as a delivery builds its messages.
func benchmarkWriteBuffer(b *testing.B, m *Message) {
	m.MessageID = "bm1.1.0123456789abcdef@example.com"
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := m.WriteBuffer(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func BenchmarkWriteBufferUTF8(b *testing.B)      { benchmarkWriteBuffer(b, newsletter(UTF8)) }
func BenchmarkWriteBufferISO2022JP(b *testing.B) { benchmarkWriteBuffer(b, newsletter(ISO2022JP)) }
func BenchmarkWriteBufferWithAttachment(b *testing.B) {
	benchmarkWriteBuffer(b, japaneseMessage(UTF8))
}

// A delivery's common attachments are Prepared once.
func BenchmarkWriteBufferPreparedAttachment(b *testing.B) {
	m := japaneseMessage(UTF8)
	for i := range m.Attachments {
		m.Attachments[i] = m.Attachments[i].Prepared()
	}
	benchmarkWriteBuffer(b, m)
}
