package search

import (
	"fmt"
	"testing"
)

func TestParseText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"垃圾 焚烧", "[垃圾 焚烧]"},
		{"  垃圾\u3000焚烧\n", "[垃圾 焚烧]"},
		{`"垃圾 焚烧" 厂`, "[垃圾▁焚烧 厂]"},
		{"“垃圾  焚烧”厂", "[垃圾▁焚烧 厂]"},
		{`＂拖欠工資＂`, "[拖欠工资]"},
		{`"未闭合 的引号`, "[未闭合▁的引号]"},
		{`"" “ ”`, "[]"},
		{"ＡＢＣ广场", "[abc广场]"},
	} {
		var got []string
		for _, term := range parseText(tc.text) {
			got = append(got, term.Folded)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("parseText(%q) = %v, want %s", tc.text, got, tc.want)
		}
	}
}

func TestTextGrams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"拖欠工資", "拖欠 欠工 工资 资▁"},
		{" 噪音　扰民 ", "噪音 音▁ ▁扰 扰民 民▁"},
		{"桥", "桥▁"},
		{"a▁b", "a_ _b b▁"}, // the gap cannot be written
		{"", ""},
	} {
		if got := textGrams(tc.text); got != tc.want {
			t.Errorf("textGrams(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	terms := parseText(`拖欠工資 "噪音 扰民" 桥`)
	if got := fmt.Sprint(terms[0].Grams, terms[1].Grams, terms[2].Grams); got != "[拖欠 欠工 工资] [噪音 音▁ ▁扰 扰民] []" {
		t.Errorf("query grams = %s", got)
	}
}
