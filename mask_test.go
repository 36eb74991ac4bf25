package fengqiao_test

import (
	"testing"

	"fengqiao"
)

// Free text keeps no phone or ID number readable, however it is written.
func TestMaskNumbers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"来电人13800001111":            "来电人138****1111",
		"电话 138-0000-1111 急":        "电话 138-****-1111 急",
		"电话 138 0000 1111":          "电话 138 **** 1111",
		"电话１３８００００１１１１":             "电话１３８****１１１１",
		"身份证331081198001019012":     "身份证3310**********9012",
		"身份证33108119800101901X":     "身份证3310**********901X",
		"身份证331081800101901":        "身份证3310*******1901",
		"\"phone\":\"13800001111\"": "\"phone\":\"138****1111\"",
		"案号(2026)浙1081民初123号":       "案号(2026)浙1081民初123号",
		"2026-05-01 09:00":          "2026-05-01 09:00",
		"信用代码91331081MA2AAAAA1X":    "信用代码91331081MA2AAAAA1X",
		"工单GD2026051200001":         "工单GD2026051200001",
	} {
		if got := fengqiao.MaskNumbers(in); got != want {
			t.Errorf("MaskNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

// An identifier that may be an ID number or a phone is one whatever its spaces,
// separators, width or script; case numbers and codes are not.
func TestIsPersonalIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"13800001111":        true,
		" 13800001111\u00a0": true,
		"13800001111\u3000":  true,
		"138-0000-1111":      true,
		"+86 138 0000 1111":  true,
		"１３８００００１１１１":        true,
		"\u0661\u0663\u0668\u0660\u0660\u0660\u0660\u0661": true, // Arabic-Indic digits
		"33108119800101901x": true,
		"1380000\u200b1111":  true,
		"GD2026051200001":    false,
		"(2026)浙1081民初123号":  false,
		"91331081MA0000001X": false,
		"123456":             false,
	} {
		if got := fengqiao.IsPersonalIdentifier(in); got != want {
			t.Errorf("IsPersonalIdentifier(%q) = %v, want %v", in, got, want)
		}
	}
	if got := fengqiao.NormalizeIdentifier("\u3000１３８００００１１１１ "); got != "13800001111" {
		t.Errorf("NormalizeIdentifier: %q", got)
	}
}
