package world

import (
	"fmt"
	"time"
)

// Device is a sensor or camera of the perception platform (感知设备).
type Device struct {
	DeviceID string `json:"deviceId"`
	Kind     string `json:"kind"` // SMOKE_SENSOR, CAMERA
	GridCode string `json:"gridCode"`
	Address  string `json:"address"`
}

// Alert is one alert a device pushes (感知警情).
type Alert struct {
	AlertID  string `json:"alertId"`
	DeviceID string `json:"deviceId"`
	// Type is SMOKE (烟感), DROWNING (溺水), INTRUSION (闯禁) or KEY_PERSON (重点人员).
	Type string `json:"type"`
	// Signal is ALARM, or RECOVER when the condition has cleared.
	Signal string `json:"signal"`
	Time   int64  `json:"time"` // Unix milliseconds
	Detail string `json:"detail"`
}

// AlertTypes lists what each kind of device reports.
var AlertTypes = map[string][]string{
	"SMOKE_SENSOR": {"SMOKE"},
	"CAMERA":       {"DROWNING", "INTRUSION", "KEY_PERSON"},
}

func (g *generator) device(i int) *Device {
	v := g.villages[g.rnd.IntN(len(g.villages))]
	kind, prefix := "SMOKE_SENSOR", "YG"
	if g.chance(0.3) {
		kind, prefix = "CAMERA", "SP"
	}
	return &Device{
		DeviceID: fmt.Sprintf("%s-%s-%05d", prefix, v.Code, i),
		Kind:     kind,
		GridCode: fmt.Sprintf("%s%03d", v.Code, 1+g.rnd.IntN(3)),
		Address:  g.address(v),
	}
}

// AlertDetail is the Chinese text a device sends with an alert of a type.
var AlertDetail = map[string]string{
	"SMOKE":      "烟雾浓度超过阈值",
	"DROWNING":   "水域周边检测到人员落水风险",
	"INTRUSION":  "检测到人员闯入禁区",
	"KEY_PERSON": "检测到重点人员出现",
}

// NewAlert is an alert of device d at t; seq makes its id unique.
func NewAlert(d *Device, alertType, signal string, t time.Time, seq int) Alert {
	return Alert{
		AlertID:  fmt.Sprintf("AL%s%08d", t.In(CST).Format("20060102"), seq),
		DeviceID: d.DeviceID, Type: alertType, Signal: signal, Time: t.UnixMilli(),
		Detail: AlertDetail[alertType],
	}
}
