package search_test

import "fengqiao"

// The golden request files hold person ids, which are keyed: derive them under a
// fixed key so the files stay the same from run to run.
func init() { fengqiao.SetPersonKey([]byte("fengqiao search golden files")) }
