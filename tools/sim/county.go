package sim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"fengqiao/tools/world"
)

// County is every simulated upstream of one world, running on loopback, with the
// credentials each accepts.
type County struct {
	World     *world.World
	Hotline   *Hotline12345
	Mediation *Mediation
	Police    *Police110
	Court     *Court
	City      *CityMgmt
	Surveys   *Surveys
	Projects  *Projects
	Alerts    *Alerts
	// URL of each simulator, by the names above in lower case.
	URL map[string]string
	// Secret is the one credential every simulator is given (API keys, client
	// secrets, signing keys): a demo has no use for more.
	Secret string

	running []*Running
}

// StartCounty starts every simulator of w on loopback.
func StartCounty(w *world.World) (*County, error) {
	b := make([]byte, 16)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	c := &County{World: w, Secret: secret, URL: map[string]string{},
		Hotline: NewHotline12345(w, secret), Mediation: NewMediation(w, "fengqiao", secret),
		Police: NewPolice110(w, "fengqiao", secret), Court: NewCourt(w, "fengqiao", secret),
		City: NewCityMgmt(w, secret), Surveys: NewSurveys(w, "fengqiao", secret),
		Projects: NewProjects(w, "fengqiao", secret), Alerts: NewAlerts(w, secret)}
	for name, h := range map[string]http.Handler{
		"hotline": c.Hotline.Handler(), "mediation": c.Mediation.Handler(), "police": c.Police.Handler(),
		"court": c.Court.Handler(), "city": c.City.Handler(), "surveys": c.Surveys.Handler(),
		"projects": c.Projects.Handler(), "alerts": c.Alerts.Handler(),
	} {
		r, err := Start("127.0.0.1:0", h)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.running = append(c.running, r)
		c.URL[name] = r.URL
	}
	return c, nil
}

// Close stops every simulator.
func (c *County) Close() {
	for _, r := range c.running {
		r.Close()
	}
}

// Switch returns the fault switch of a simulator by name.
func (c *County) Switch(name string) interface{ Set(Faults) } {
	return map[string]interface{ Set(Faults) }{
		"hotline": c.Hotline, "mediation": c.Mediation, "police": c.Police, "court": c.Court,
		"city": c.City, "surveys": c.Surveys, "projects": c.Projects, "alerts": c.Alerts,
	}[name]
}
