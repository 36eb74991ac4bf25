package connectors

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Rate is a request rate, in requests per second. In a config or a manifest it is
// a number of requests per second (10, 0.5) or a count per unit: "5/s", "120/min",
// "1000/h". Zero is no limit.
type Rate float64

// rateUnits are the units a Rate may be written per, in seconds.
var rateUnits = map[string]float64{"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}

// UnmarshalText reads "5/s", "120/min", "1000/h" or a plain number per second.
func (r *Rate) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	count, unit, per := strings.Cut(text, "/")
	seconds := 1.0
	if per {
		var ok bool
		if seconds, ok = rateUnits[strings.TrimSpace(unit)]; !ok {
			return fmt.Errorf("rateLimit：速率 %q 的单位须为 /s、/min 或 /h", text)
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(count), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return fmt.Errorf("rateLimit：速率 %q 须为非负数，或写作 5/s、120/min、1000/h", text)
	}
	*r = Rate(n / seconds)
	return nil
}

// String writes the rate per second, as "5/s".
func (r Rate) String() string { return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s" }
