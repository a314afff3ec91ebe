package message

import "testing"

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
