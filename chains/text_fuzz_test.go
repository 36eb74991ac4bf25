package chains_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/width"

	"fengqiao/chains"
)

// Any text: targets are found without panicking, each written as it stands in
// the (width-folded) text and keyed by a name that ends with its form.
func FuzzFindTargets(f *testing.F) {
	for _, s := range []string{"本人在温岭市东海建设工程有限公司务工", "翠竹苑和锦绣花园之间", "锦绣花园园区", "苑苑苑小区小区",
		"２０２１年３月份起转为普惠性民办幼儿园", "B2区银杏小区1-4栋", "有限公司", "（温岭）东海有限公司"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		folded := width.Fold.String(text)
		for _, tg := range chains.FindTargets(text) {
			if !strings.Contains(folded, tg.Text) || tg.Name == "" || utf8.RuneCountInString(tg.Name) > 40 {
				t.Fatalf("FindTargets(%q): %+v", text, tg)
			}
		}
	})
}

// Any address: parsing does not panic, and the parts are pieces of it in order.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"浙江省台州市温岭市泽国镇楼下社区锦绣花园3幢1201室", "B市B4区银河大道12号银桂小区5栋2单元301室", "市场", "区县镇村路号幢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		a := chains.ParseAddress(s)
		for _, p := range []string{a.Province, a.City, a.District, a.Town, a.Village, a.Road, a.Number, a.Estate, a.Building} {
			if strings.ContainsRune(p, 0) {
				t.Fatalf("ParseAddress(%q) = %+v", s, a)
			}
		}
		_ = a.Place()
	})
}

// Any two texts: similarity scores stay within 0 and 1, and a text is wholly
// like itself.
func FuzzSimilarity(f *testing.F) {
	f.Add("华庭小区地下车库积水", "华庭小区地下车库积水！！", "")
	f.Fuzz(func(t *testing.T, a, b, title string) {
		x, y := chains.NewText(title, a), chains.NewText(title, b)
		for _, v := range []float64{chains.Similarity(&x, &y), chains.SubjectSimilarity(&x, &y), x.Sketch.Jaccard(&y.Sketch), x.Sketch.Containment(&y.Sketch)} {
			if v < 0 || v > 1 {
				t.Fatalf("score %v for %q, %q", v, a, b)
			}
		}
		if x.Norm != "" && (chains.Similarity(&x, &x) != 1 || x.Sketch.Jaccard(&x.Sketch) != 1) {
			t.Fatalf("%q is not like itself", a)
		}
	})
}
