package demo

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

var (
	familyJA = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "松本", "井上", "木村", "清水"}
	givenJA  = []string{"太郎", "花子", "翔太", "美咲", "大輔", "結衣", "健一", "さくら", "直樹", "陽菜", "誠", "愛子"}
	familyEN = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark"}
	givenEN  = []string{"Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Olivia", "Liam"}
	plans    = []string{"ベーシック", "スタンダード", "プレミアム", "Basic", "Standard"}
)

// Recipient is one row of the sample list.
type Recipient struct {
	Email, Name, Plan string
	Points            int
}

// Recipients returns n sample recipients, Japanese and English names mixed
// (two in three Japanese), with distinct addresses.
func Recipients(n int) []Recipient {
	out := make([]Recipient, n)
	for i := range out {
		var name string
		if i%3 != 2 {
			name = familyJA[i%len(familyJA)] + " " + givenJA[(i/len(familyJA))%len(givenJA)]
		} else {
			name = givenEN[i%len(givenEN)] + " " + familyEN[(i/len(givenEN))%len(familyEN)]
		}
		out[i] = Recipient{
			Email:  fmt.Sprintf("member%04d@example.net", i+1),
			Name:   name,
			Plan:   plans[i%len(plans)],
			Points: (i*37)%1000 + 100,
		}
	}
	return out
}

// WriteCSV writes rs as a CSV list with a header row, in Shift_JIS (what
// Excel saves in Japan) when sjis is true, else UTF-8.
func WriteCSV(path string, rs []Recipient, sjis bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var tw *transform.Writer
	if sjis {
		tw = transform.NewWriter(f, japanese.ShiftJIS.NewEncoder())
		w = tw
	}
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "email,name,plan,points\r\n")
	for _, r := range rs {
		fmt.Fprintf(bw, "%s,%s,%s,%d\r\n", r.Email, r.Name, r.Plan, r.Points)
	}
	err = bw.Flush()
	if tw != nil && err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Subject and TextBody are the sample message template.
const (
	Subject  = "{{.name}} 様：12月のご利用明細 / Your December statement"
	TextBody = `{{.name}} 様

いつもご利用いただきありがとうございます。
今月のプランは「{{.plan}}」、保有ポイントは {{.points}} ポイントです。

Dear {{.name}},

Thank you for being with us. Your plan is "{{.plan}}" and you hold {{.points}} points.

-- 
ブルームーン会員事務局 / Bluemoon members' office
`
	AttachmentName = "ご案内.txt"
	AttachmentText = "年末年始の営業日のご案内\r\nOur opening hours over the new year.\r\n"
)
